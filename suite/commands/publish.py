"""``mfbench publish``: the static results site of result folders (``suite.site``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from suite.commands.options import add_command, path


def add(commands: Any) -> None:
    """The ``publish`` command and its arguments."""
    publish = add_command(
        commands,
        "publish",
        main,
        "write the static results site (HTML, offline) of result folders",
        "Write a static site: index.html opens with the post's claims, judged across the "
        "published run folders, then one page per folder with its verdict, claims, targets, "
        "sortable and filterable tables, "
        "interactive figures (Pareto, convergence, time per epoch, cost growth; a tuning "
        "folder's trials) and the environment and provenance of every run. Every script and "
        "style is in the site: it works from file:// with no network. Default FOLDERs: "
        "results/ and each folder under it holding results (results/runs left out).",
        "mfbench publish --out site",
        "mfbench publish results results/speed --out /tmp/site",
        "mfbench publish results/runs/20261128-120000 --out /tmp/one-run",
    )
    publish.add_argument(
        "folders",
        nargs="*",
        metavar="FOLDER",
        type=path,
        help="result folders to publish (default: results/ and the folders under it)",
    )
    publish.add_argument(
        "--out", type=path, metavar="DIR", default="site", help="the site's folder"
    )


def main(args: argparse.Namespace) -> None:
    """Build the site and say, one line per folder, what its page holds."""
    from suite import site

    folders = [Path(folder) for folder in args.folders] or None
    for line in site.publish(folders, Path(args.out)):
        print(line)
