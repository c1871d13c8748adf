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
    return parser


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
