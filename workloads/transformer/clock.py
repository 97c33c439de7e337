"""Per-token timestamps without a host synchronisation per token.

On CUDA each stamp records an event in the stream and the host waits once,
when the intervals are read at the end of a step; on a CPU, where execution
is synchronous, a stamp is ``time.perf_counter()``.
"""

from __future__ import annotations

import time

import torch


class TokenClock:
    """Stamps taken inside a token loop, read as intervals (seconds) after it."""

    def __init__(self, device: str) -> None:
        self.cuda = device.startswith("cuda")
        self.marks: list[object] = []

    def restart(self) -> None:
        """Forget earlier stamps and take the first one."""
        self.marks = []
        self.stamp()

    def stamp(self) -> None:
        """Mark now (in stream order on CUDA)."""
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self.marks.append(event)
        else:
            self.marks.append(time.perf_counter())

    def intervals(self) -> list[float]:
        """Seconds between consecutive stamps; on CUDA this is the one host wait."""
        if self.cuda:
            self.marks[-1].synchronize()  # type: ignore[attr-defined]
            return [a.elapsed_time(b) / 1e3 for a, b in zip(self.marks, self.marks[1:])]  # type: ignore[attr-defined]
        return [b - a for a, b in zip(self.marks, self.marks[1:])]  # type: ignore[operator]
