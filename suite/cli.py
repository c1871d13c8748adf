"""The ``mfbench`` command line (also ``python -m suite``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from suite.errors import InputError

log = logging.getLogger("mfbench")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2), as every mfbench error is reported."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


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


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = _Parser(prog="mfbench", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.set_defaults(handler=lambda _args: parser.print_help())
    commands = parser.add_subparsers(title="commands", parser_class=_Parser)

    data = commands.add_parser("data", help="fetch and inspect data sets")
    data.set_defaults(handler=lambda _args: data.print_help())
    data_commands = data.add_subparsers(title="data commands", parser_class=_Parser)
    fetch = data_commands.add_parser("fetch", help="download a MovieLens release into the cache")
    fetch.add_argument("name", help="release name, e.g. ml-100k")
    fetch.add_argument("--force", action="store_true", help="download again even if cached")
    fetch.set_defaults(handler=_data_fetch)
    info = data_commands.add_parser("info", help="sizes, density, histogram of a data set")
    info.add_argument("name_or_path", help="data set name or ratings file")
    info.add_argument("--format", help="force the file format (u.data, ratings.dat, ...)")
    info.add_argument("--seed", type=int, default=0, help="seed of a synthetic data set")
    info.set_defaults(handler=_data_info)

    run = commands.add_parser("run", help="run a benchmark grid (a config and/or flags)")
    _add_run_arguments(run)
    run.set_defaults(handler=_run)

    report = commands.add_parser("report", help="write REPORT.md and plots for a run folder")
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
        default="torch-biased-mf",
        help="contender the speed-up table compares with",
    )
    report.set_defaults(handler=_report)

    check = commands.add_parser(
        "check", help="regression gate: run a preset and compare it with the reference"
    )
    check.add_argument("--reference", default="results/ci", help="reference folder")
    check.add_argument("--preset", default="ci", help="config name or file (default: ci)")
    check.add_argument("--out", help="run folder (default: results/runs/check-<UTC stamp>)")
    check.add_argument(
        "--update",
        action="store_true",
        help="make this run the new reference (and say what changed)",
    )
    check.add_argument(
        "--speed-factor", type=float, help="allowed growth of normalised fit time (default 1.3)"
    )
    check.add_argument(
        "--accuracy-floor",
        type=float,
        help="allowed absolute loss of RMSE / NDCG@10 (default 0.002)",
    )
    check.set_defaults(handler=_check)

    listing = commands.add_parser("list", help="contenders, data sets and configs")
    listing.set_defaults(handler=_list)
    return parser


def _add_run_arguments(run: argparse.ArgumentParser) -> None:
    many = {"action": "append", "metavar": "A,B"}
    run.add_argument(
        "--config",
        help="config name (see `mfbench list`) or TOML file; "
        "default: 'default' unless --dataset is given",
    )
    run.add_argument("--dataset", **many, help="data set names or files (replaces the config's)")
    run.add_argument("--model", **many, help="contenders to run (default: the config's, or all)")
    run.add_argument("--backend", **many, help="backends for every model, e.g. cpu,cuda")
    run.add_argument("--split", choices=["holdout", "kfold", "temporal"], help="split method")
    run.add_argument("--folds", type=int, help="k of k-fold")
    run.add_argument("--seeds", type=int, metavar="N", help="seeds 0..N-1")
    run.add_argument("--threads", type=int, help="threads per run (default: every core)")
    run.add_argument("--epochs", type=int, help="epochs (or iterations) of every model")
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="MODEL.KEY=VALUE",
        help="set one hyperparameter, e.g. torch-mf.lr=0.01 (repeatable)",
    )
    run.add_argument("--format", help="force the format of data set files")
    run.add_argument("--out", help="run folder (default: results/runs/<UTC stamp>)")
    run.add_argument("--resume", action="store_true", help="skip runs already in --out")
    run.add_argument(
        "--in-process",
        action="store_true",
        help="run everything in this process (debugging; memory figures then mix)",
    )
    run.add_argument("--no-report", action="store_true", help="skip REPORT.md and plots")


def _run(args: argparse.Namespace) -> None:
    from pathlib import Path

    from suite import report, runner
    from suite.config import Grid, grid_from_arguments

    if args.resume and not args.out:
        raise InputError("--resume needs --out DIR (the folder of the run to continue)")
    out = Path(args.out) if args.out else _new_run_folder()
    saved = out / "grid.json"
    if args.resume and saved.exists() and not _grid_flags_given(args):
        grid = Grid.from_json(saved.read_text())
    else:
        grid = grid_from_arguments(args)
    runner.run_grid(grid, out, resume=args.resume, in_process=args.in_process)
    if not args.no_report:
        print(report.write_report(out).main_tables)
    print(f"results: {out}")


def _grid_flags_given(args: argparse.Namespace) -> bool:
    flags = (
        "config",
        "dataset",
        "model",
        "backend",
        "split",
        "folds",
        "seeds",
        "threads",
        "epochs",
        "format",
    )
    return any(getattr(args, flag) for flag in flags) or bool(args.param)


def _new_run_folder(prefix: str = ""):
    import time
    from pathlib import Path

    return Path("results") / "runs" / (prefix + time.strftime("%Y%m%d-%H%M%S", time.gmtime()))


def _report(args: argparse.Namespace) -> None:
    from pathlib import Path

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
    import dataclasses
    import json
    from pathlib import Path

    from suite import regress, results, runner
    from suite.config import load_config

    grid = load_config(args.preset)
    reference = Path(args.reference)
    old = None
    if not args.update or (reference / regress.CHECK_FILE).exists():
        old = regress.load_reference(reference, grid.name)  # fails early, before any work
    stored = {}
    if (reference / regress.CHECK_FILE).exists():
        stored = json.loads((reference / regress.CHECK_FILE).read_text()).get("tolerances", {})
    tolerances = dataclasses.replace(
        regress.Tolerances(**stored),
        **{
            key: value
            for key, value in (
                ("speed_factor", args.speed_factor),
                ("accuracy_floor", args.accuracy_floor),
            )
            if value is not None
        },
    )
    out = Path(args.out) if args.out else _new_run_folder("check-")
    runner.run_grid(grid, out)
    current, _ = results.load(out)
    failed = False
    if old is not None:
        table = regress.compare(old, current, tolerances)
        text = regress.render(table)
        (out / "CHECK.md").write_text(text)
        print(text)
        failed = bool((table["verdict"] == "FAIL").any())
    if args.update:
        regress.write_reference(out, reference, grid.name, tolerances)
        changed = "the comparison above shows what changed" if old is not None else "new"
        print(f"reference updated: {reference} ({changed})")
        return 0
    print(f"check: {out / 'CHECK.md'}")
    return 1 if failed else 0


def _convert_pytest_benchmark(source, folder) -> None:
    import json

    from suite import results

    frame, env = results.from_pytest_benchmark(source)
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "results.csv", index=False)
    (folder / "env.json").write_text(json.dumps(env, indent=2) + "\n")


def _list(_args: argparse.Namespace) -> None:
    from tabulate import tabulate

    from suite import data, models
    from suite.config import config_names

    rows = []
    for name in models.names():
        model = models.get(name)
        for backend in model.backends:
            ok, reason = model.available(backend)
            kind = "ratings" if model.predicts_ratings else "ranking"
            rows.append([name, backend, kind, "yes" if ok else f"no: {reason}"])
    print(
        tabulate(rows, headers=["contender", "backend", "predicts", "available"], tablefmt="github")
    )
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
