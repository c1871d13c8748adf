"""``mfbench compare``: two run folders, contender by contender (``suite.compare``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from suite.commands.options import add_command, at_least, path
from suite.errors import InputError


def add(commands: Any) -> None:
    """The ``compare`` command and its arguments."""
    comparison = add_command(
        commands,
        "compare",
        main,
        "compare two run folders contender by contender",
        "Match the contenders of two run folders by (data set, contender, backend) and show, "
        "for each, B − A of its primary metrics with a paired significance test and B/A of "
        "its median fit time. Markdown on stdout; exit 0 whatever changed (the regression "
        "gate is `mfbench check`).",
        "mfbench compare results/ci results/runs/check-20261128-120000",
        "mfbench compare OLD NEW --only-changed --time-factor 1.5",
        "mfbench compare OLD NEW --out COMPARE.md",
    )
    comparison.add_argument("a", metavar="A", type=path, help="run folder before (the base)")
    comparison.add_argument("b", metavar="B", type=path, help="run folder after")
    comparison.add_argument(
        "--only-changed",
        action="store_true",
        help="only contenders with a verdict other than 'same' (untested ones left out too)",
    )
    comparison.add_argument(
        "--time-factor",
        type=at_least(1.0, float),
        metavar="F",
        help="B's fit time over A's beyond which it reads slower or faster (above 1; default: "
        "the suite's on-par factor, 1.1, as asv's)",
    )
    comparison.add_argument("--out", type=path, metavar="FILE", help="also write the markdown")


def main(args: argparse.Namespace) -> None:
    """Print (and with ``--out`` write) the comparison of folder A with folder B."""
    from suite import compare, safe_io
    from suite.analysis.paired import PAR

    factor = PAR if args.time_factor is None else args.time_factor
    a, b = compare.load_side("A", Path(args.a)), compare.load_side("B", Path(args.b))
    text = compare.compare_folders(a, b, factor, only_changed=args.only_changed)
    print(text, end="")
    if args.out:
        try:
            safe_io.write_text(Path(args.out), text)
        except InputError as exc:
            raise InputError(f"--out {exc}") from exc
