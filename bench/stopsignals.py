"""SIGTERM and SIGHUP handled like Ctrl-C while a command measures.

``timeout``, ``docker stop``, Kubernetes and a Slurm time limit send SIGTERM;
a closed terminal sends SIGHUP. Inside :func:`stop_signals` either raises
:class:`~bench.errors.Stopped` (a KeyboardInterrupt) in the main thread, so
the run in progress is recorded as interrupted and the result file is written.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from bench.errors import Stopped

SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextmanager
def stop_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Stopped` for the duration of the block."""
    previous = {s: signal.signal(s, _raise) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def exit_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 128 + the signal number for a stop signal."""
    return 128 + exc.signum if isinstance(exc, Stopped) else 130
