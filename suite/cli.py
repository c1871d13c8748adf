"""The ``mfbench`` command line (also ``python -m suite``): one parser, dispatch, one-line errors.

Each command is a module of ``suite.commands`` with its arguments and its ``main``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from suite import __version__
from suite.commands import COMMANDS
from suite.commands.options import Parser, examples
from suite.errors import InputError
from suite.threads import settle_openmp


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 regression found, 2 bad input).

    SIGTERM and SIGHUP (a closed terminal) stop it as Ctrl-C does: one line, what is recorded
    stays, and a grid says how to resume.
    """
    settle_openmp()  # before any library loads OpenMP (the workers inherit it)
    previous = {number: signal.signal(number, _interrupt) for number in STOP_SIGNALS}
    try:
        return _main(argv)
    except KeyboardInterrupt:  # while starting up (imports, parsing)
        print("mfbench: interrupted", file=sys.stderr)
        return 130
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


#: Signals that stop mfbench as Ctrl-C does.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _interrupt(number: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(number).name)


def _main(argv: Sequence[str] | None) -> int:
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
    """The parser of every command (``suite.commands``)."""
    parser = Parser(
        prog="mfbench",
        description="Benchmark matrix-factorization recommenders: PyTorch against bespoke code.",
        epilog=examples("mfbench run --config quick", "mfbench list", "mfbench check"),
    )
    parser.add_argument("--version", action="version", version=f"mfbench {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.set_defaults(handler=lambda _args: parser.print_help())
    commands = parser.add_subparsers(title="commands", parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f"suite.commands.{name}").add(commands)
    return parser
