"""``mfbench report``: REPORT.md and plots of a run folder (or of a pytest-benchmark file)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from suite.commands.options import add_command
from suite.errors import InputError


def add(commands: Any) -> None:
    """The ``report`` command and its arguments."""
    report = add_command(
        commands,
        "report",
        main,
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


def main(args: argparse.Namespace) -> None:
    """Write the folder's report (converting a pytest-benchmark file first, if given)."""
    from suite import readme, report, results, safe_io

    if args.pytest_benchmark:
        source = Path(args.pytest_benchmark)
        folder = Path(args.folder or source.with_suffix(""))
        frame, env = results.from_pytest_benchmark(source)
        safe_io.make_folder(folder, "report folder")
        safe_io.write_csv(frame, folder / "results.csv")
        safe_io.write_json(folder / "env.json", env)
    elif args.folder:
        folder = Path(args.folder)
    else:
        raise InputError("report needs a run FOLDER or --pytest-benchmark FILE.json")
    written = report.write_report(folder, reference_model=args.reference_model)
    print(written.main_tables)
    print(f"report: {written.path}")
    if args.readme:
        readme.update_readme(Path(args.readme), folder)
        print(f"headline tables: {args.readme}")
