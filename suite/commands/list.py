"""``mfbench list``: the registered contenders (and whether they run here), data sets, configs."""

from __future__ import annotations

import argparse
from typing import Any

from suite.commands.options import add_command


def add(commands: Any) -> None:
    """The ``list`` command."""
    add_command(
        commands,
        "list",
        main,
        "contenders, data sets and configs",
        "The registered contenders (contests, backends, availability here), the data set "
        "names and the shipped configs.",
        "mfbench list",
    )


def main(_args: argparse.Namespace) -> None:
    """Print the contenders' table, then the data set and config names."""
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
