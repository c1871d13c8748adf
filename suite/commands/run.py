"""``mfbench run``: a grid of runs (a config and/or flags) into a run folder, then its report."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.commands.options import (
    add_command,
    add_in_process,
    at_least,
    listed,
    new_run_folder,
    path,
)
from suite.errors import InputError

if TYPE_CHECKING:
    from suite.config import Grid

#: The ``run`` flags that define a grid (anything else only says where and how to run it).
GRID_FLAGS = (
    "config",
    "dataset",
    "model",
    "backend",
    "split",
    "folds",
    "seeds",
    "threads",
    "epochs",
    "patience",
    "format",
    "param",
)


def add(commands: Any) -> None:
    """The ``run`` command and its arguments."""
    from suite import executors
    from suite.data import splits

    run = add_command(
        commands,
        "run",
        main,
        "run a benchmark grid (a config and/or flags)",
        "Run a grid of data sets × splits × seeds × contenders × backends, one fresh worker "
        "process and one record per run.",
        "mfbench run --config quick",
        "mfbench run --dataset ml-100k --model torch-biased-mf,numba-sgd --seeds 3 "
        "--param torch-biased-mf.lr=0.01",
        "mfbench run --resume --out results/runs/20261128-120000",
        "mfbench run --config gpu --threads 16 --dry-run",
    )
    many = {"action": "append", "metavar": "A,B"}
    run.add_argument(
        "--config",
        help="config name (see `mfbench list`) or TOML file "
        "(default: 'default' unless --dataset is given)",
    )
    run.add_argument("--dataset", **many, help="data set names or files (replaces the config's)")
    run.add_argument("--model", **many, help="contenders to run (default: the config's, or all)")
    run.add_argument("--backend", **many, help="backends for every model, e.g. cpu,cuda")
    run.add_argument("--split", choices=splits.METHODS, help="split method")
    run.add_argument("--folds", type=at_least(2), help="number of folds of a k-fold split")
    run.add_argument("--seeds", type=at_least(1, int, 10_000), metavar="N", help="seeds 0..N-1")
    run.add_argument("--threads", type=at_least(1), help="threads per run (default: every core)")
    run.add_argument("--epochs", type=at_least(1), help="epochs of every contender that has them")
    run.add_argument(
        "--patience",
        "--early-stopping",
        dest="patience",
        type=at_least(1),
        metavar="EPOCHS",
        help="stop each contender after EPOCHS epochs without a better score on a "
        "validation part of its training half (the test half is never looked at); "
        "the best epoch's model is evaluated",
    )
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="MODEL.KEY=VALUE",
        help="set one hyperparameter, e.g. torch-mf.lr=0.01 (repeatable)",
    )
    run.add_argument("--format", help="force the format of data set files")
    run.add_argument("--out", type=path, help="run folder (default: results/runs/<UTC stamp>)")
    run.add_argument("--resume", action="store_true", help="skip runs already in --out")
    run.add_argument(
        "--executor",
        choices=executors.names(),
        default=executors.names()[0],
        help="where the runs' worker processes live (suite.executors): this machine, one run "
        "after the other, or a Dask cluster (needs the dask extra: pip install "
        "'mfbench[dask]'); records, run ids and --resume are the same with any",
    )
    run.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="with --executor dask: the scheduler of an existing cluster, whose workers run "
        "with --nthreads 1 (default: a LocalCluster of cores / --threads workers)",
    )
    add_in_process(run)
    run.add_argument("--no-report", action="store_true", help="skip REPORT.md and plots")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the planned runs and an estimated total time (suite/estimate.py: scaled "
        "from committed results); run and write nothing",
    )


def main(args: argparse.Namespace) -> None:
    """Run the grid the flags describe (or resume the saved one), then write its report."""
    from suite import report, runner

    if args.dry_run:
        if args.resume:
            raise InputError("--dry-run plans a new grid; it does not combine with --resume")
        from suite import estimate

        print(estimate.dry_run(grid_from_arguments(args)))
        return
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise InputError(f"--out {args.out}: a file, not a folder: choose another --out")
    if args.resume:
        grid, out = _grid_to_resume(args)
    else:
        grid = grid_from_arguments(args)
        out = Path(args.out) if args.out else new_run_folder()
    runner.run_grid(
        grid,
        out,
        resume=args.resume,
        in_process=args.in_process,
        executor=args.executor,
        scheduler=args.scheduler,
    )
    if not args.no_report:
        print(report.write_report(out).main_tables)
    print(f"results: {out}")


def grid_from_arguments(args: argparse.Namespace) -> Grid:
    """The grid of ``mfbench run``: a config (if any), then each flag overriding it."""
    from suite import models
    from suite.config import (
        DatasetSpec,
        Grid,
        ModelSpec,
        load_config,
        refuse_unread_split_setting,
        validate,
    )

    for flag in ("dataset", "model", "backend"):
        given = getattr(args, flag)
        if given is not None and not listed(given):
            raise InputError(f"--{flag} {given[-1]!r}: names no {flag}")

    if args.config or not args.dataset:
        grid = load_config(args.config or "default")
    else:
        grid = Grid(name="custom", datasets=[], models=[ModelSpec(n) for n in models.names()])
    if args.dataset:
        grid.datasets = [
            DatasetSpec(name, split=args.split or "holdout") for name in listed(args.dataset)
        ]
    if args.model:
        configured = {spec.name: spec for spec in grid.models}
        grid.models = [configured.get(name, ModelSpec(name)) for name in listed(args.model)]
    for dataset in grid.datasets:
        dataset.split = args.split or dataset.split
        if args.folds is not None:
            refuse_unread_split_setting("folds", args.folds, dataset.split, f"--folds {args.folds}")
        dataset.folds = args.folds or dataset.folds
        dataset.seeds = list(range(args.seeds)) if args.seeds else dataset.seeds
        dataset.format = args.format or dataset.format
        dataset.params = {
            m: p for m, p in dataset.params.items() if m in {spec.name for spec in grid.models}
        }
    if args.backend:
        for spec in grid.models:
            spec.backends = listed(args.backend)
    if args.threads is not None:
        grid.n_threads = args.threads
    if args.patience is not None:
        grid.patience = args.patience
    for spec in grid.models:
        models.get(spec.name)  # unknown names fail here, listing the valid ones
        if args.epochs is not None and "epochs" in models.hyperparameters(spec.name):
            grid.cli_params.setdefault(spec.name, {})["epochs"] = args.epochs
    if args.epochs is not None and not any(spec.name in grid.cli_params for spec in grid.models):
        names = ", ".join(spec.name for spec in grid.models)
        raise InputError(f"--epochs {args.epochs}: no contender of the grid has epochs ({names})")
    for text in args.param:
        model_name, key, value = parse_param(text)
        grid.cli_params.setdefault(model_name, {})[key] = value
    validate(grid, "command line")
    return grid


def parse_param(text: str) -> tuple[str, str, Any]:
    """``"torch-mf.lr=0.01"`` -> ``("torch-mf", "lr", 0.01)`` (values are TOML, else strings)."""
    import tomllib

    target, equals, value = text.partition("=")
    model_name, dot, key = target.rpartition(".")
    if not equals or not dot or not model_name or not key:
        raise InputError(f"--param {text!r}: expected MODEL.KEY=VALUE, e.g. torch-mf.lr=0.01")
    try:
        parsed = tomllib.loads(f"value = {value}")["value"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return model_name, key, parsed


def _grid_to_resume(args: argparse.Namespace) -> tuple[Grid, Path]:
    """``--resume``: exactly the grid saved in ``--out``; grid flags, if any, must describe it."""
    from suite import results, runner

    if not args.out:
        raise InputError("--resume needs --out DIR (the folder of the run to continue)")
    out = Path(args.out)
    saved = runner.saved_grid(out)
    if any(getattr(args, flag) not in (None, [], False) for flag in GRID_FLAGS):
        asked = grid_from_arguments(args)
        difference = first_difference(dataclasses.asdict(saved), dataclasses.asdict(asked))
        if difference:
            raise InputError(
                f"--resume: the command line describes another grid than the one saved in "
                f"{out / results.GRID_FILE} ({difference}); drop the grid flags to continue "
                "the saved one, or choose a new --out"
            )
    return saved, out


def first_difference(saved: Any, asked: Any, where: str = "grid") -> str:
    """Where two JSON-like values first differ, e.g. ``"grid.n_threads: saved 2, asked 1"``."""
    if isinstance(saved, dict) and isinstance(asked, dict):
        for key in dict.fromkeys([*saved, *asked]):
            found = first_difference(saved.get(key), asked.get(key), f"{where}.{key}")
            if found:
                return found
        return ""
    if isinstance(saved, list) and isinstance(asked, list) and len(saved) == len(asked):
        for index, (one, other) in enumerate(zip(saved, asked, strict=True)):
            found = first_difference(one, other, f"{where}[{index}]")
            if found:
                return found
        return ""
    return "" if saved == asked else f"{where}: saved {saved!r}, asked {asked!r}"
