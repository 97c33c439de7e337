"""The event loop miners are polled on, and what else polling thousands of miners from one process needs.

- uvloop where it is installed (the ``fast`` extra), else asyncio's own loop (:func:`run`). A poll is one
  TCP connection (connect, one request, one reply, close); much of its CPU is the event loop's and the
  kernel's. ``SITEBENCH_EVENT_LOOP=asyncio`` keeps asyncio's loop where uvloop is installed.
- One file descriptor per connection in flight: :func:`open_files` raises the soft limit toward the hard one.
- Fewer collections by the cyclic garbage collector while polling (:func:`fewer_collections`): a poll
  allocates a few hundred short-lived objects (its reply's JSON), so Python's default (a collection of the
  youngest generation every 700 allocations, each promoting survivors toward full collections over every
  sample held) collected every few polls. At 10,000 miners that was some 40% of the poller's CPU (docs:
  the fleet guide's figures); every 20,000 allocations it is within noise of no collection at all.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

#: The environment variable that chooses the loop: ``uvloop`` (the default where installed) or ``asyncio``.
LOOP_ENV = "SITEBENCH_EVENT_LOOP"
#: Allocations between collections of the youngest generation while polling (Python's default: 700).
GC_THRESHOLD = 20_000


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


@contextmanager
def fewer_collections(threshold: int = GC_THRESHOLD) -> Iterator[None]:
    """The cyclic collector's youngest generation collected every ``threshold`` allocations (at least) inside the
    block; the thresholds before it are put back after (unless changed meanwhile by someone else)."""
    before = gc.get_threshold()
    mine = (max(threshold, before[0]), *before[1:])
    gc.set_threshold(*mine)
    try:
        yield
    finally:
        if gc.get_threshold() == mine:
            gc.set_threshold(*before)
