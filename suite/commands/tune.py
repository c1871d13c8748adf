"""``mfbench tune``: the same Optuna budget for every contender (the search is ``suite.tuning``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from suite.commands.options import add_command, at_least, listed, new_run_folder, path, seed


def add(commands: Any) -> None:
    """The ``tune`` command and its arguments."""
    tuning = add_command(
        commands,
        "tune",
        main,
        "search contenders' hyperparameters with the same budget each (Optuna)",
        "Tune each contender with the same budget of Optuna TPE trials over the ranges its "
        "class declares, on a validation part carved out of the training half of one split "
        "(--fold of a k-fold): that split's test ratings are never seen, and --save keeps "
        "the winners for that split alone. Each trial stops early on the validation part. "
        "Writes settings.toml (the winners, with provenance), trials.csv and TUNING.md to "
        "--out.",
        "mfbench tune --dataset ml-100k --split kfold --fold 2 --model torch-biased-mf,numba-sgd",
        "mfbench tune --dataset synthetic-100k --model numba-sgd --trials 50 --timeout 600",
        "mfbench tune --dataset ml-100k --features --split cold-items --seed 3 "
        "--model lightfm-bpr-hybrid,torch-hybrid",
    )
    tuning.add_argument("--dataset", required=True, help="data set name or ratings file")
    tuning.add_argument("--model", action="append", required=True, metavar="A,B", help="contenders")
    tuning.add_argument("--split", choices=("holdout", "kfold", "cold-items"), default="holdout")
    tuning.add_argument(
        "--features",
        action="store_true",
        help="load the data set's side features (as a grid's features = true): settings tuned "
        "with them are kept apart from those without",
    )
    tuning.add_argument(
        "--folds", type=at_least(2), help="folds of a k-fold split (default: 5; kfold only)"
    )
    tuning.add_argument("--fold", type=at_least(0), default=0, help="the fold to tune on (kfold)")
    tuning.add_argument(
        "--trials", type=at_least(1), default=30, help="trials per contender, at most"
    )
    tuning.add_argument(
        "--stall",
        type=at_least(1),
        metavar="TRIALS",
        help="also end a contender's search after TRIALS trials without a better score",
    )
    tuning.add_argument(
        "--min-trials",
        type=at_least(0),
        default=0,
        help="trials every search runs before --stall may end it",
    )
    tuning.add_argument("--seed", type=seed, default=0, help="seeds split and sampler")
    tuning.add_argument("--patience", type=at_least(1), default=3, help="early stopping")
    tuning.add_argument("--max-epochs", type=at_least(1), default=100, help="per trial")
    tuning.add_argument("--timeout", type=at_least(1.0, float), help="seconds per contender")
    tuning.add_argument("--threads", type=at_least(1), help="threads per fit")
    tuning.add_argument("--out", type=path, help="folder (default: results/runs/tune-<stamp>)")
    tuning.add_argument(
        "--save",
        action="store_true",
        help="also make the winners this split's tuned settings, which every grid then uses on "
        "it unless a config or flag sets a value (suite/configs/tuned/<data set>/<split>.toml)",
    )
    tuning.add_argument(
        "--warm-start",
        action="store_true",
        help="try this split's saved winners second (after the defaults): a search over wider "
        "ranges then starts where the last one ended (training-side only: no test rating)",
    )


def main(args: argparse.Namespace) -> None:
    """Tune the contenders, writing the folder as each one's search ends."""
    from suite import data, tuning
    from suite.config import refuse_unread_split_setting
    from suite.errors import InputError

    if args.folds is not None:
        refuse_unread_split_setting("folds", args.folds, args.split, f"--folds {args.folds}")
    if args.fold:
        refuse_unread_split_setting("folds", args.fold, args.split, f"--fold {args.fold}")
    if args.features and not data.has_features(args.dataset):
        raise InputError(f"--features: {args.dataset} has no side features")
    tuning.tune_dataset(
        args.dataset,
        listed(args.model),
        Path(args.out) if args.out else new_run_folder("tune-"),
        split=args.split,
        folds=args.folds or 5,
        fold=args.fold,
        n_trials=args.trials,
        seed=args.seed,
        patience=args.patience,
        max_epochs=args.max_epochs,
        n_threads=args.threads,
        timeout_s=args.timeout,
        stall_trials=args.stall,
        min_trials=args.min_trials,
        save_as_tuned=args.save,
        warm_start=args.warm_start,
        features=args.features,
    )
