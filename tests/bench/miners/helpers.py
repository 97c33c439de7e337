"""Running ``sitebench`` in-process for the miners tests, output captured."""

from __future__ import annotations

import contextlib
import io

from bench.cli import main

#: A quick ``miners run`` against simulated miners: polls every 0.25 s, two windows of 3 s. The power layer
#: refuses a window with a hole over 10% of it, so 3 s windows (6 s measured) keep a firmware figure
#: valid through one late or lost poll (a 0.5 s hole) on a busy machine; 2 s windows did not.
RUN = ["--period", "0.25", "--warmup", "5", "--window", "3", "--repeats", "2", "--timeout", "1"]


def cli(*argv: str) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``sitebench ARGV...``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()
