"""The ``sitebench`` command line.

Each subcommand lives in its own module under :mod:`bench.commands` and
exposes ``register(subparsers)``, which adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning an exit code. Modules are
discovered, so a new subcommand is a new file. Heavy imports (torch, numba)
happen inside the command functions, so ``--help`` stays fast.

Exit codes: 0 success, 1 a check or run failed, 2 a usage error. Errors are
one line on stderr, never a traceback for bad input.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

import bench.commands
from bench import __version__
from bench.errors import SitebenchError

# The order subcommands are listed in `sitebench --help`; unlisted ones follow.
ORDER = [
    "run", "serve", "miners", "list", "show", "mine", "generate", "size", "plan", "declare",
    "validate", "keygen", "sign", "submit", "compare", "leaderboard",
    "report", "baseline", "qualify", "fleet", "recover", "import",
]

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


def _command_modules() -> list[str]:
    found = [m.name for m in pkgutil.iter_modules(bench.commands.__path__) if not m.name.startswith("_")]
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(found, key=lambda n: (rank.get(n.rstrip("_"), len(ORDER)), n))


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every discovered subcommand."""
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
    for name in _command_modules():
        importlib.import_module(f"bench.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    for stream in (sys.stdout, sys.stderr):  # a C locale or an ASCII pipe gets escapes, never an error
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
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
        from bench.measure.stopsignals import exit_code

        print(f"sitebench {args.command}: interrupted", file=sys.stderr)
        return exit_code(exc)
    except BrokenPipeError:
        return 1
