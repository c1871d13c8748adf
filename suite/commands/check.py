"""``mfbench check``: the regression gate (its workflow lives in ``suite.regress``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from suite.commands.options import add_command, add_in_process, at_least, new_run_folder, path


def add(commands: Any) -> None:
    """The ``check`` command and its arguments."""
    check = add_command(
        commands,
        "check",
        main,
        "regression gate: run a config and compare it with the reference",
        "Run a config (default: ci) and compare accuracy per seed and normalised speed with "
        "the committed reference. Exit 1 on a regression, 2 on bad input.",
        "mfbench check",
        "mfbench check --update   # after a deliberate change",
    )
    check.add_argument("--reference", type=path, default="results/ci", help="reference folder")
    check.add_argument("--config", default="ci", help="config name or TOML file")
    check.add_argument(
        "--out", type=path, help="run folder (default: results/runs/check-<UTC stamp>)"
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
        type=at_least(1.0, float),
        help="allowed growth of normalised fit time (default: the reference's tolerance)",
    )
    check.add_argument(
        "--accuracy-floor",
        type=at_least(0.0, float),
        help="allowed absolute loss of each primary metric (default: the reference's)",
    )
    check.add_argument(
        "--allow-new",
        action="store_true",
        help="pass even with contenders the reference has no ok run of (they stay unchecked)",
    )
    add_in_process(check)


def main(args: argparse.Namespace) -> int:
    """Run the gate; its exit code."""
    from suite import regress

    return regress.run_check(
        args.config,
        Path(args.reference),
        Path(args.out) if args.out else new_run_folder("check-"),
        update=args.update,
        update_speed=args.update_speed,
        overrides={"speed_factor": args.speed_factor, "accuracy_floor": args.accuracy_floor},
        in_process=args.in_process,
        allow_new=args.allow_new,
    )
