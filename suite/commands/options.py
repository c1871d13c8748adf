"""What every command's arguments share: one-line argparse errors, option types, examples."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any, NoReturn


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2), as every mfbench error is reported."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' layout and shows each option's default where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        unset = default is None or default is False or default == [] or default == argparse.SUPPRESS
        if "%(default)" in text or unset:
            return text
        return f"{text} (default: %(default)s)"


def examples(*lines: str) -> str:
    """The ``examples:`` block of a command's help."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def add_command(
    commands: Any, name: str, handler: Any, summary: str, description: str, *example: str
) -> argparse.ArgumentParser:
    """A subcommand with its one-line summary, description, examples and handler."""
    command = commands.add_parser(
        name, help=summary, description=description, epilog=examples(*example)
    )
    command.set_defaults(handler=handler)
    return command


def at_least(low: float, kind: type = int, high: float | None = None) -> Any:
    """An argparse type: a finite ``kind`` ``>= low`` (and ``<= high``, if given); argparse
    names the option on error."""

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
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{value} is above the maximum, {high}")
        return value

    return number


def seed(text: str) -> int:
    """An argparse type: a seed, a whole number from 0 to ``MAX_SEED``."""
    from suite.models.base import MAX_SEED

    return at_least(0, int, MAX_SEED)(text)


def path(text: str) -> str:
    """An argparse type: a path that is not empty (``""`` would mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    return text


def listed(values: list[str] | None) -> list[str]:
    """The names given to a repeatable comma-list flag: ``["a,b", "c"]`` -> ``[a, b, c]``."""
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def add_in_process(command: argparse.ArgumentParser) -> None:
    """``--in-process``: every run in this process (debugging)."""
    command.add_argument(
        "--in-process",
        action="store_true",
        help="run everything in this process (debugging; memory figures then mix)",
    )


def new_run_folder(prefix: str = "") -> Path:
    """``results/runs/<prefix><UTC stamp>``: where a command writes when no --out is given."""
    return Path("results") / "runs" / (prefix + time.strftime("%Y%m%d-%H%M%S", time.gmtime()))
