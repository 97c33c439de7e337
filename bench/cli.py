"""The ``sitebench`` command line.

Each subcommand lives in its own module under :mod:`bench.commands` and
exposes ``register(subparsers)``, which adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning an exit code. The table
:data:`bench.commands.COMMANDS` names them; this module is the one place that
imports lazily: only the module of the command being run is loaded (with its
heavy dependencies, torch or numba), so ``sitebench --help`` stays fast.

Exit codes: 0 success, 1 a check or run failed, 2 a usage error. Errors are
one line on stderr, never a traceback for bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from bench import __version__
from bench.commands import COMMANDS
from bench.errors import SitebenchError
from bench.measure.stopsignals import exit_code

EPILOG = """\
exit codes: 0 success, 1 a check or run failed (invalid file, regression,
verification failure), 2 usage error.

start with:  sitebench run          (CPU suite at the ci preset, plus sizing)
             sitebench list         (workloads and power meters on this machine)
"""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names (its first word that is not an option), or None."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def build_parser(only: str | None = None, *, full: bool = True) -> argparse.ArgumentParser:
    """The parser: every subcommand's own parser (``full``), or only ``only``'s, the others listed by name and help.

    Loading a command's module is the CLI's one lazy import.
    """
    parser = OneLineParser(
        prog="sitebench",
        description=(
            "Qualify hardware for a power-limited site: run verified workloads "
            "(SHA-256 hashing, Bitcoin double SHA-256, transformer inference) while "
            "sampling power, and turn measured work per joule into MW figures."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sitebench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, (module, help_text) in COMMANDS.items():
        if full or name == only:
            importlib.import_module(f"bench.commands.{module}").register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    for stream in (sys.stdout, sys.stderr):  # a C locale or an ASCII pipe gets escapes, never an error
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command_of(argv), full=False)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except SitebenchError as exc:
        print(f"sitebench {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # before or after a measurement: nothing was being recorded
        print(f"sitebench {args.command}: interrupted", file=sys.stderr)
        return exit_code(exc)
    except BrokenPipeError:
        return 1
