"""Running ``sitebench`` in-process for the miners tests, output captured."""

from __future__ import annotations

import contextlib
import io

from bench.cli import main

#: A quick ``miners run`` against simulated miners: polls every 0.25 s, two windows of 2 s.
RUN = ["--period", "0.25", "--warmup", "5", "--window", "2", "--repeats", "2", "--timeout", "1"]


def cli(*argv: str) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``sitebench ARGV...``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()
