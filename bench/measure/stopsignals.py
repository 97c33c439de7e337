"""SIGTERM, SIGHUP and Ctrl-C end a measurement once, cleanly.

``timeout``, ``docker stop``, Kubernetes and a Slurm time limit send SIGTERM; a
closed terminal sends SIGHUP. Inside :func:`stop_signals` the first of them
raises :class:`~bench.errors.Stopped` (a KeyboardInterrupt; Ctrl-C raises a
plain one) in the main thread, so the run in progress is recorded as
interrupted and the result file is written. Every later signal while the file
is being written is ignored, with a line saying so: a second Ctrl-C or a
scheduler's repeated SIGTERM must not lose the run that is being saved.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from bench.errors import Stopped

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Guard:
    """What :func:`stop_signals` yields: ``hold()`` once the measurement is over and its file is being written."""

    def __init__(self) -> None:
        self.stopping = False
        #: A signal that arrived while holding: the command exits with its code once the file is written.
        self.pending: KeyboardInterrupt | None = None

    def hold(self) -> None:
        """From now on a stop signal is recorded, not raised: nothing may interrupt the write."""
        self.stopping = True

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        exc = KeyboardInterrupt() if signum == signal.SIGINT else Stopped(signum)
        if self.stopping:
            self.pending = self.pending or exc
            print("sitebench: stopping, writing what was measured (signal noted)", file=sys.stderr)
            return
        self.stopping = True
        raise exc


@contextmanager
def stop_signals() -> Iterator[Guard]:
    """The first stop signal raises; later ones, and any after ``hold()``, are noted until the block ends."""
    guard = Guard()
    previous = {s: signal.signal(s, guard._handle) for s in SIGNALS}
    try:
        yield guard
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def exit_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 128 + the signal number for a stop signal."""
    return 128 + exc.signum if isinstance(exc, Stopped) else 130
