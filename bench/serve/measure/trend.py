"""The running token-rate drift of a ``serve --soak`` point, for its progress bar, from requests as they end.

Each completed request's output tokens are spread evenly over its token events (as the record attributes
them, :mod:`bench.serve.measure.slices`) into windows of the soak's length on a grid from the first token
seen. A window is taken as complete once a request ends a whole window after it (a request in flight may
still add tokens to the window just past), and its rate joins a :class:`bench.drift.Tracker` (constant
memory, the plain OLS interval): a live hint. The record's windows start where the load has filled and
its figures are computed when the point ends.
"""

from __future__ import annotations

import math

from bench.drift import Tracker, percent
from bench.serve.protocol.records import RequestRecord


class TokenTrend:
    """The drift of the token rate over windows of ``window_s`` against ``threshold`` (a fraction per hour)."""

    def __init__(self, window_s: float, threshold: float) -> None:
        self.window_s = window_s
        self.tracker = Tracker(threshold)
        self.t0: float | None = None
        self.tokens: dict[int, float] = {}
        self.closed = 0  # windows [0, closed) are in the tracker

    def add(self, rec: RequestRecord) -> str | None:
        """One request ended; the drift so far when a window was completed by it, else None."""
        if rec.ok and rec.output_tokens and rec.token_times:
            if self.t0 is None:
                self.t0 = rec.token_times[0]
            share = rec.output_tokens / len(rec.token_times)
            for t in rec.token_times:
                k = max(0, math.floor((t - self.t0) / self.window_s))
                if k >= self.closed:  # a token of a window already counted is left out of the hint
                    self.tokens[k] = self.tokens.get(k, 0.0) + share
        if self.t0 is None or rec.end is None:
            return None
        done = math.floor((rec.end - self.t0) / self.window_s) - 2  # windows ending a whole window before this end
        if done < self.closed:
            return None
        while self.closed <= done:
            k = self.closed
            self.tracker.add((k + 0.5) * self.window_s, self.tokens.pop(k, 0.0) / self.window_s)
            self.closed += 1
        est = self.tracker.estimate()
        return f"drift {percent(est)}" + (f" {est.verdict}" if est is not None and est.low is not None else "")
