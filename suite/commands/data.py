"""``mfbench data fetch|info``: fetch a named data set into the cache; describe any data set."""

from __future__ import annotations

import argparse
from typing import Any

from suite.commands.options import Parser, add_command, seed


def add(commands: Any) -> None:
    """The ``data`` command and its subcommands."""
    data = add_command(
        commands,
        "data",
        lambda _args: data.print_help(),
        "fetch and inspect data sets",
        "Fetch named data sets into the cache and describe any data set.",
        "mfbench data fetch ml-100k",
        "mfbench data info ml-100k",
    )
    data_commands = data.add_subparsers(title="data commands", parser_class=Parser)
    fetch = add_command(
        data_commands,
        "fetch",
        fetch_main,
        "download a named data set into the cache",
        "Download a named data set (a MovieLens release) into $MFBENCH_DATA (or "
        "~/.cache/mfbench) and check it; a generated one has nothing to fetch.",
        "mfbench data fetch ml-100k",
    )
    fetch.add_argument("name", help="data set name, e.g. ml-100k")
    fetch.add_argument("--force", action="store_true", help="download again even if cached")
    info = add_command(
        data_commands,
        "info",
        info_main,
        "sizes, density, histogram of a data set",
        "Sizes, density, activity, rating histogram and time span of a data set.",
        "mfbench data info ml-100k",
        "mfbench data info ratings.csv --format ratings.csv",
    )
    info.add_argument("name_or_path", help="data set name or ratings file")
    info.add_argument("--format", help="force the file format (u.data, ratings.dat, ...)")
    info.add_argument("--seed", type=seed, default=0, help="seed of a generated data set")


def fetch_main(args: argparse.Namespace) -> None:
    """Fetch the named data set through its source (``suite.data.catalogue``) and describe it."""
    from suite import data

    path = data.fetch(args.name, force=args.force)
    ratings = data.load(args.name)
    print(f"{args.name}: {path if path is not None else 'generated, nothing to fetch'}")
    print(ratings)


def info_main(args: argparse.Namespace) -> None:
    """Print a data set's facts and its rating histogram."""
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
