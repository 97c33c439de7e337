"""Per-token timestamps without a host synchronisation per token, and the device scope work runs in.

On CUDA each stamp records an event on the current stream *of the workload's
device* and the host waits once, when the intervals are read at the end of a
step; on a CPU, where execution is synchronous, a stamp is ``time.perf_counter()``.
Nothing here calls ``torch.cuda.set_device``: work runs inside
:func:`device_scope`, which restores the caller's current device on exit.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from typing import Any

import torch


@contextlib.contextmanager
def device_scope(device: str) -> Iterator[None]:
    """Make ``device`` current for the block (CUDA), without grad; nothing to switch on CPU."""
    dev = torch.device(device)
    with torch.no_grad():
        if dev.type == "cuda":
            with torch.cuda.device(dev):
                yield
        else:
            yield


class TokenClock:
    """Stamps taken inside a token loop, read as intervals (seconds) after it."""

    def __init__(self, device: str) -> None:
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        self.marks: list[Any] = []

    def restart(self) -> None:
        """Forget earlier stamps and take the first one."""
        self.marks = []
        self.stamp()

    def stamp(self) -> None:
        """Mark now (in stream order on the device's current stream on CUDA)."""
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record(torch.cuda.current_stream(self.device))
            self.marks.append(event)
        else:
            self.marks.append(time.perf_counter())

    def intervals(self) -> list[float]:
        """Seconds between consecutive stamps; on CUDA this is the one host wait. Forgets the stamps."""
        marks, self.marks = self.marks, []
        if self.cuda:
            marks[-1].synchronize()
            return [a.elapsed_time(b) / 1e3 for a, b in itertools.pairwise(marks)]
        return [b - a for a, b in itertools.pairwise(marks)]
