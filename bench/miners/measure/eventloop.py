"""The event loop miners are polled on: uvloop where it is installed (the ``fast`` extra), else asyncio's own.

A poll is one TCP connection (connect, one request, one reply, close); most of its CPU is the event
loop's and the kernel's, not the parsing. uvloop (libuv, in C) does the loop's part in about two
thirds of the time on the same machine (docs: Measured figures). ``SITEBENCH_EVENT_LOOP=asyncio``
keeps asyncio's loop where uvloop is installed. Polling thousands of miners also needs one file
descriptor per connection in flight: :func:`open_files` raises the soft limit toward the hard one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: The environment variable that chooses the loop: ``uvloop`` (the default where installed) or ``asyncio``.
LOOP_ENV = "SITEBENCH_EVENT_LOOP"


def _uvloop() -> Any | None:
    if os.environ.get(LOOP_ENV, "uvloop").strip().lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop


def name() -> str:
    """``uvloop`` or ``asyncio``: the loop :func:`run` uses here."""
    return "uvloop" if _uvloop() is not None else "asyncio"


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on uvloop's loop where installed (and not turned off by :data:`LOOP_ENV`)."""
    uvloop = _uvloop()
    return asyncio.run(main) if uvloop is None else uvloop.run(main)


def open_files(need: int) -> int:
    """Raise this process's soft limit of open files to ``need`` where the hard limit allows; the limit now."""
    try:
        import resource
    except ImportError:  # not a POSIX system: nothing to raise
        return need
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if want > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):
            pass
    return soft
