"""The ``mfbench`` command line (also ``python -m suite``): flags in, grids and reports out."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from suite import __version__
from suite.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from suite.config import Grid
    from suite.regress import Tolerances

log = logging.getLogger("mfbench")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2), as every mfbench error is reported."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' layout and shows each option's default where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        unset = default is None or default is False or default == [] or default == argparse.SUPPRESS
        if "%(default)" in text or unset:
            return text
        return f"{text} (default: %(default)s)"


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _command(
    commands: Any, name: str, handler: Any, summary: str, description: str, *examples: str
) -> argparse.ArgumentParser:
    """A subcommand with its one-line summary, description, examples and handler."""
    command = commands.add_parser(
        name, help=summary, description=description, epilog=_examples(*examples)
    )
    command.set_defaults(handler=handler)
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 regression found, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.handler(args) or 0)
    except InputError as exc:
        if args.debug:
            raise
        print(f"mfbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mfbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = _Parser(
        prog="mfbench",
        description="Benchmark matrix-factorization recommenders: PyTorch against bespoke code.",
        epilog=_examples("mfbench run --config quick", "mfbench list", "mfbench check"),
    )
    parser.add_argument("--version", action="version", version=f"mfbench {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.set_defaults(handler=lambda _args: parser.print_help())
    commands = parser.add_subparsers(title="commands", parser_class=_Parser)
    _add_data_commands(commands)

    run = _command(
        commands,
        "run",
        _run,
        "run a benchmark grid (a config and/or flags)",
        "Run a grid of data sets × splits × seeds × contenders × backends, one fresh worker "
        "process and one record per run.",
        "mfbench run --config quick",
        "mfbench run --dataset ml-100k --model torch-biased-mf,numba-sgd --seeds 3 "
        "--param torch-biased-mf.lr=0.01",
        "mfbench run --resume --out results/runs/20261128-120000",
    )
    _add_run_arguments(run)

    report = _command(
        commands,
        "report",
        _report,
        "write REPORT.md and plots for a run folder",
        "Rebuild a run folder's REPORT.md and plots from its results.",
        "mfbench report results/runs/20261128-120000",
        "mfbench report results --readme README.md",
        "mfbench report --pytest-benchmark results/runs/benchmark-20261128-120000.json",
    )
    report.add_argument("folder", nargs="?", help="a run folder (results.jsonl or results.csv)")
    report.add_argument(
        "--pytest-benchmark",
        metavar="FILE.json",
        help="report a pytest-benchmark JSON file instead (into FOLDER, default FILE's name)",
    )
    report.add_argument(
        "--readme", metavar="FILE", help="also refresh FILE's headline block from this folder"
    )
    report.add_argument(
        "--reference-model",
        help="contender (name or label) whose throughput the ratios divide by, in the "
        "contest(s) it enters (default: each contest's registered speed baseline)",
    )

    check = _command(
        commands,
        "check",
        _check,
        "regression gate: run a config and compare it with the reference",
        "Run a config (default: ci) and compare accuracy per seed and normalised speed with "
        "the committed reference. Exit 1 on a regression, 2 on bad input.",
        "mfbench check",
        "mfbench check --update   # after a deliberate change",
    )
    check.add_argument("--reference", type=_path, default="results/ci", help="reference folder")
    check.add_argument("--config", default="ci", help="config name or TOML file")
    check.add_argument(
        "--out", type=_path, help="run folder (default: results/runs/check-<UTC stamp>)"
    )
    updates = check.add_mutually_exclusive_group()
    updates.add_argument(
        "--update",
        action="store_true",
        help="make this run the new reference (and say what changed)",
    )
    updates.add_argument(
        "--update-speed",
        action="store_true",
        help="keep this run's speed figures as this machine class's, if accuracy passes",
    )
    check.add_argument(
        "--speed-factor",
        type=_at_least(1.0, float),
        help="allowed growth of normalised fit time (default: the reference's tolerance)",
    )
    check.add_argument(
        "--accuracy-floor",
        type=_at_least(0.0, float),
        help="allowed absolute loss of each primary metric (default: the reference's)",
    )
    _add_in_process(check)

    tuning = _command(
        commands,
        "tune",
        _tune,
        "search contenders' hyperparameters with the same budget each (Optuna)",
        "Tune each contender with the same number of Optuna TPE trials over the ranges its "
        "class declares, on a validation part carved out of the training half of one split "
        "(fold 0 of a k-fold): no test rating is seen. Each trial stops early on that "
        "validation part. Writes settings.toml (the winners, with provenance), trials.csv "
        "and TUNING.md to --out.",
        "mfbench tune --dataset ml-100k --split kfold --model torch-biased-mf,numba-sgd",
        "mfbench tune --dataset synthetic-100k --model numba-sgd --trials 50 --timeout 600",
    )
    tuning.add_argument("--dataset", required=True, help="data set name or ratings file")
    tuning.add_argument("--model", action="append", required=True, metavar="A,B", help="contenders")
    tuning.add_argument("--split", choices=("holdout", "kfold"), default="holdout")
    tuning.add_argument("--folds", type=_at_least(2), default=5, help="k of a k-fold split")
    tuning.add_argument("--trials", type=_at_least(1), default=30, help="trials per contender")
    tuning.add_argument("--seed", type=_at_least(0), default=0, help="seeds split and sampler")
    tuning.add_argument("--patience", type=_at_least(1), default=3, help="early stopping")
    tuning.add_argument("--max-epochs", type=_at_least(1), default=100, help="per trial")
    tuning.add_argument("--timeout", type=_at_least(1.0, float), help="seconds per contender")
    tuning.add_argument("--threads", type=_at_least(1), help="threads per fit")
    tuning.add_argument("--out", type=_path, help="folder (default: results/runs/tune-<stamp>)")
    tuning.add_argument(
        "--save",
        action="store_true",
        help="also make the winners the data set's tuned settings, which every grid on it "
        "then uses unless a config or flag sets a value (suite/configs/tuned/<data set>.toml)",
    )

    comparison = _command(
        commands,
        "compare",
        _compare_folders,
        "compare two run folders contender by contender",
        "Match the contenders of two run folders by (data set, contender, backend) and show, "
        "for each, B − A of its primary metrics with a paired significance test and B/A of "
        "its median fit time. Markdown on stdout; exit 0 whatever changed (the regression "
        "gate is `mfbench check`).",
        "mfbench compare results/ci results/runs/check-20261128-120000",
        "mfbench compare OLD NEW --only-changed --time-factor 1.5",
        "mfbench compare OLD NEW --out COMPARE.md",
    )
    comparison.add_argument("a", metavar="A", type=_path, help="run folder before (the base)")
    comparison.add_argument("b", metavar="B", type=_path, help="run folder after")
    comparison.add_argument(
        "--only-changed",
        action="store_true",
        help="only contenders with a verdict other than 'same' (untested ones left out too)",
    )
    comparison.add_argument(
        "--time-factor",
        type=_at_least(1.0, float),
        metavar="F",
        default=1.1,  # suite.compare.DEFAULT_TIME_FACTOR, as asv's
        help="B/A of median fit time beyond which it reads slower or faster (above 1)",
    )
    comparison.add_argument(
        "--out", type=_path, metavar="FILE", help="also write the markdown to FILE"
    )

    _command(
        commands,
        "list",
        _list,
        "contenders, data sets and configs",
        "The registered contenders (contests, backends, availability here), the data set "
        "names and the shipped configs.",
        "mfbench list",
    )
    return parser


def _add_data_commands(commands: Any) -> None:
    data = _command(
        commands,
        "data",
        lambda _args: data.print_help(),
        "fetch and inspect data sets",
        "Fetch MovieLens releases into the cache and describe any data set.",
        "mfbench data fetch ml-100k",
        "mfbench data info ml-100k",
    )
    data_commands = data.add_subparsers(title="data commands", parser_class=_Parser)
    fetch = _command(
        data_commands,
        "fetch",
        _data_fetch,
        "download a MovieLens release into the cache",
        "Download a MovieLens release into $MFBENCH_DATA (or ~/.cache/mfbench) and check it.",
        "mfbench data fetch ml-100k",
    )
    fetch.add_argument("name", help="release name, e.g. ml-100k")
    fetch.add_argument("--force", action="store_true", help="download again even if cached")
    info = _command(
        data_commands,
        "info",
        _data_info,
        "sizes, density, histogram of a data set",
        "Sizes, density, activity, rating histogram and time span of a data set.",
        "mfbench data info ml-100k",
        "mfbench data info ratings.csv --format ratings.csv",
    )
    info.add_argument("name_or_path", help="data set name or ratings file")
    info.add_argument("--format", help="force the file format (u.data, ratings.dat, ...)")
    info.add_argument("--seed", type=int, default=0, help="seed of a synthetic data set")


def _add_run_arguments(run: argparse.ArgumentParser) -> None:
    from suite import executors
    from suite.data import splits

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
    run.add_argument("--folds", type=_at_least(2), help="k of k-fold")
    run.add_argument("--seeds", type=_at_least(1), metavar="N", help="seeds 0..N-1")
    run.add_argument("--threads", type=_at_least(1), help="threads per run (default: every core)")
    run.add_argument("--epochs", type=_at_least(1), help="epochs of every contender that has them")
    run.add_argument(
        "--early-stopping",
        type=_at_least(1),
        metavar="PATIENCE",
        help="stop each contender after PATIENCE epochs without a better score on a "
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
    run.add_argument("--out", type=_path, help="run folder (default: results/runs/<UTC stamp>)")
    run.add_argument("--resume", action="store_true", help="skip runs already in --out")
    run.add_argument(
        "--executor",
        choices=executors.names(),
        default=executors.names()[0],
        help="where the runs' worker processes live: this machine, one run after the other, "
        "or a Dask cluster (needs the dask extra: pip install 'mfbench[dask]'); records, run "
        "ids and --resume are the same with either",
    )
    run.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="with --executor dask: the scheduler of an existing cluster, whose workers run "
        "with --nthreads 1 (default: a LocalCluster of cores / --threads workers)",
    )
    _add_in_process(run)
    run.add_argument("--no-report", action="store_true", help="skip REPORT.md and plots")


def _at_least(low: float, kind: type = int) -> Any:
    """An argparse type: a finite ``kind`` ``>= low`` (argparse names the option on error)."""
    import math

    def number(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if value < low:
            raise argparse.ArgumentTypeError(f"{value:g} is below the minimum, {low:g}")
        return value

    return number


def _path(text: str) -> str:
    """An argparse type: a path that is not empty (``""`` would mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    return text


def _add_in_process(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--in-process",
        action="store_true",
        help="run everything in this process (debugging; memory figures then mix)",
    )


# -- flags -> grid ------------------------------------------------------------------------------

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
    "early_stopping",
    "format",
    "param",
)


def listed(values: list[str] | None) -> list[str]:
    """The names given to a repeatable comma-list flag: ``["a,b", "c"]`` -> ``[a, b, c]``."""
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def grid_from_arguments(args: argparse.Namespace) -> Grid:
    """The grid of ``mfbench run``: a config (if any), then each flag overriding it."""
    from suite import models
    from suite.config import DatasetSpec, Grid, ModelSpec, load_config, validate

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
    if args.early_stopping is not None:
        grid.early_stopping = args.early_stopping
    for spec in grid.models:
        models.get(spec.name)  # unknown names fail here, listing the valid ones
        if args.epochs is not None and "epochs" in models.hyperparameters(spec.name):
            grid.cli_params.setdefault(spec.name, {})["epochs"] = args.epochs
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


# -- the commands -------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> None:
    from suite import report, runner

    if args.resume:
        grid, out = _grid_to_resume(args)
    else:
        grid = grid_from_arguments(args)
        out = Path(args.out) if args.out else _new_run_folder()
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


def _grid_to_resume(args: argparse.Namespace) -> tuple[Grid, Path]:
    """``--resume``: exactly the grid saved in ``--out``; grid flags, if any, must describe it."""
    import dataclasses

    from suite import runner

    if not args.out:
        raise InputError("--resume needs --out DIR (the folder of the run to continue)")
    out = Path(args.out)
    saved = runner.saved_grid(out)
    if any(getattr(args, flag) not in (None, [], False) for flag in GRID_FLAGS):
        asked = grid_from_arguments(args)
        difference = _first_difference(dataclasses.asdict(saved), dataclasses.asdict(asked))
        if difference:
            raise InputError(
                f"--resume: the command line describes another grid than the one saved in "
                f"{out / runner.GRID_FILE} ({difference}); drop the grid flags to continue "
                "the saved one, or choose a new --out"
            )
    return saved, out


def _first_difference(saved: Any, asked: Any, where: str = "grid") -> str:
    """Where two JSON-like values first differ, e.g. ``"grid.n_threads: saved 2, asked 1"``."""
    if isinstance(saved, dict) and isinstance(asked, dict):
        for key in dict.fromkeys([*saved, *asked]):
            found = _first_difference(saved.get(key), asked.get(key), f"{where}.{key}")
            if found:
                return found
        return ""
    if isinstance(saved, list) and isinstance(asked, list) and len(saved) == len(asked):
        for index, (one, other) in enumerate(zip(saved, asked, strict=True)):
            found = _first_difference(one, other, f"{where}[{index}]")
            if found:
                return found
        return ""
    return "" if saved == asked else f"{where}: saved {saved!r}, asked {asked!r}"


def _new_run_folder(prefix: str = "") -> Path:
    import time

    return Path("results") / "runs" / (prefix + time.strftime("%Y%m%d-%H%M%S", time.gmtime()))


def _report(args: argparse.Namespace) -> None:
    from suite import report

    if args.pytest_benchmark:
        folder = Path(args.folder or Path(args.pytest_benchmark).with_suffix(""))
        _convert_pytest_benchmark(Path(args.pytest_benchmark), folder)
    elif args.folder:
        folder = Path(args.folder)
    else:
        raise InputError("report needs a run FOLDER or --pytest-benchmark FILE.json")
    written = report.write_report(folder, reference_model=args.reference_model)
    print(written.main_tables)
    print(f"report: {written.path}")
    if args.readme:
        report.update_readme(Path(args.readme), folder)
        print(f"headline tables: {args.readme}")


def _check(args: argparse.Namespace) -> int:
    from suite import environment, regress, runner
    from suite.config import load_config

    grid = load_config(args.config)
    reference = Path(args.reference)
    old = None
    if not args.update:
        old = regress.load_reference(reference, grid.name)  # fails early, before any work
    elif (reference / regress.CHECK_FILE).exists():
        try:  # to show what the update changes; a broken reference is simply replaced
            old = regress.load_reference(reference, grid.name)
        except InputError as exc:
            log.warning("%s; --update replaces it", exc)
    if args.update_speed:
        machine = regress.machine_class(environment.environment())
        if machine == regress.folder_machine(reference):
            raise InputError(
                f"--update-speed: {reference} was made on this machine class ({machine}); "
                "refresh its own figures with --update"
            )
    tolerances = _tolerances(args, reference)
    out = Path(args.out) if args.out else _new_run_folder("check-")
    runner.run_grid(grid, out, in_process=args.in_process)
    table = _compare(reference, old, out, tolerances) if old is not None else None
    failed = set() if table is None else set(table.loc[table["verdict"] == "FAIL", "check"])
    if args.update:
        stale = regress.write_reference(out, reference, grid.name, tolerances)
        changed = "the comparison above shows what changed" if old is not None else "new"
        print(f"reference updated: {reference} ({changed})")
        for path in stale:
            print(f"removed {path}: speed figures of the old code on another machine class")
        return 0
    if args.update_speed:
        if failed - {regress.SPEED_CHECK}:
            print("speed reference not written: accuracy regressed (see above)")
            return 1
        print(f"speed reference written: {regress.write_speed_reference(out, reference)}")
        return 0
    print(f"check: {out / 'CHECK.md'}")
    if table is not None and not table["verdict"].isin(["ok", "FAIL"]).any():
        print("check: nothing was compared, so nothing is vouched for")  # silence is no pass
        return 1
    return 1 if failed else 0


def _tolerances(args: argparse.Namespace, reference: Path) -> Tolerances:
    """The reference's tolerances, with the command line's overrides."""
    import dataclasses

    from suite import regress

    overrides = {"speed_factor": args.speed_factor, "accuracy_floor": args.accuracy_floor}
    return dataclasses.replace(
        regress.Tolerances.stored(reference),
        **{key: value for key, value in overrides.items() if value is not None},
    )


def _compare(reference: Path, old: pd.DataFrame, out: Path, tolerances: Tolerances) -> pd.DataFrame:
    """Compare the run in ``out`` with the reference; write and print CHECK.md; the table."""
    from suite import regress, results, safe_io

    current, _ = results.load(out)
    speed = regress.speed_reference(reference, old, regress.folder_machine(out))
    table = regress.compare(old, current, tolerances, speed)
    text = regress.render(table)
    safe_io.write_text(out / "CHECK.md", text)
    print(text)
    return table


def _tune(args: argparse.Namespace) -> None:
    from suite import data, environment, models, tuning
    from suite.data import splits

    names = listed(args.model)
    for name in names:
        models.get(name)  # unknown names fail here, listing the valid ones
    ratings = data.load(args.dataset)
    train, _ = splits.split(ratings, args.split, fold=0, k=args.folds, seed=args.seed)
    fit, validation = splits.validation(train, seed=args.seed)
    env = environment.environment()
    where = f"fold 0 of a {args.folds}-fold split" if args.split == "kfold" else "a holdout"
    provenance = {
        "data set": args.dataset,
        "protocol": (
            f"training part of {where} (seed {args.seed}); {len(validation):,} of its "
            f"{len(train):,} ratings held out as validation, the other {len(fit):,} trained on"
        ),
        "budget": (
            f"{args.trials} Optuna TPE trials per contender (seed {args.seed}), the first at "
            f"its defaults; pruner: worst {100 - tuning.KEEP_PERCENTILE:g}% at an epoch ended"
            + (f", at most {args.timeout:g} s each" if args.timeout else "")
        ),
        "early stopping": f"patience {args.patience}, at most {args.max_epochs} epochs",
        "commit": f"{env.get('git_commit')}{' (dirty)' if env.get('git_dirty') else ''}",
    }
    out = Path(args.out) if args.out else _new_run_folder("tune-")
    results = []
    for name in names:
        tuned = tuning.tune(
            name,
            fit,
            validation,
            n_trials=args.trials,
            seed=args.seed,
            patience=args.patience,
            max_epochs=args.max_epochs,
            n_threads=args.threads,
            timeout_s=args.timeout,
        )
        failed = sum(trial["state"] == "fail" for trial in tuned.trials)
        print(
            f"{name}: validation {tuned.metric.title} {tuned.best_score:.4f} {tuned.best_params}"
            + (f" ({failed} trial(s) diverged)" if failed else "")
        )
        results.append(tuned)
        settings = tuning.write(out, results, provenance)  # after each: a crash keeps these
    print(f"settings: {settings}")
    if args.save:
        print(
            f"saved as the tuned settings of {args.dataset}: {tuning.save(settings, args.dataset)}"
        )


def _compare_folders(args: argparse.Namespace) -> None:
    from suite import compare, safe_io

    a, b = compare.load_side("A", Path(args.a)), compare.load_side("B", Path(args.b))
    text = compare.compare_folders(a, b, args.time_factor, only_changed=args.only_changed)
    print(text, end="")
    if args.out:
        try:
            safe_io.write_text(Path(args.out), text)
        except InputError as exc:
            raise InputError(f"--out {exc}") from exc


def _convert_pytest_benchmark(source: Path, folder: Path) -> None:
    from suite import results, safe_io

    frame, env = results.from_pytest_benchmark(source)
    safe_io.make_folder(folder, "report folder")
    safe_io.write_csv(frame, folder / "results.csv")
    safe_io.write_json(folder / "env.json", env)


def _list(_args: argparse.Namespace) -> None:
    from tabulate import tabulate

    from suite import data, models
    from suite.config import config_names

    rows = []
    for name in models.names():
        model = models.get(name)
        for backend in model.backends:
            ok, reason = model.available(backend)
            contests = ", ".join(model.contests) + ("" if model.trains else " (no training)")
            rows.append([name, backend, contests, "yes" if ok else f"no: {reason}"])
    headers = ["contender", "backend", "contests", "available"]
    print(tabulate(rows, headers=headers, tablefmt="github"))
    print("\ndata sets: " + ", ".join(data.names()) + " (or a ratings file)")
    print("configs: " + ", ".join(config_names()))


def _data_fetch(args: argparse.Namespace) -> None:
    from suite import data
    from suite.data import movielens

    path = movielens.fetch(args.name, force=args.force)
    ratings = data.load(args.name)
    print(f"{args.name}: {path}")
    print(ratings)


def _data_info(args: argparse.Namespace) -> None:
    from suite import data

    facts = data.load(args.name_or_path, seed=args.seed, format=args.format).describe()
    histogram = facts.pop("rating histogram")
    width = max(len(key) for key in facts)
    for key, value in facts.items():
        shown = f"{value:,}" if isinstance(value, int) else value
        shown = f"{value:.4%}" if key == "density" else shown
        print(f"{key:<{width}}  {shown}")
    print("rating histogram:")
    biggest = max(histogram.values())
    for label, count in histogram.items():
        print(f"  {label:>12}  {count:>12,}  {_bar(count / biggest)}")


def _bar(fraction: float, width: int = 40) -> str:
    return "#" * max(1, round(fraction * width)) if fraction > 0 else ""
