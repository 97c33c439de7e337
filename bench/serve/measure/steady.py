"""The steady-state window: from when the load first fills to when the queue starts draining.

After ML.ENERGY's benchmark, which measures energy per token only while the server's batch is
full. Edges, found live (:class:`SteadyTracker`, so the power sampler's phase markers fall on
them) and after the fact (:func:`edges`, from the same request times, e.g. of an imported
result), by one rule:

- start, closed loop (``--max-concurrency C`` with ``--request-rate inf``: C requests in flight
  all the time): the moment the C-th request receives its first token, i.e. C requests have
  been admitted and prefilled and the server decodes a full batch (ML.ENERGY waits for the
  server's batch size B the same way);
- start, open loop (a finite ``--request-rate``): the first completion, when departures have
  begun to balance arrivals;
- end, both: the first completion after the last request was sent. From then on nothing new
  arrives and the number of requests in flight only falls: the queue drains.

The window is cut into contiguous slices (:mod:`bench.serve.measure.slices`: about ``SLICES`` of
them, bounded by power-sampler markers), the run record's measured windows. A window is refused
for sizing (``valid`` false, ``reasons``) when it is empty or shorter than the meters need, when
the output token rate across its slices varies by more than :data:`MAX_CV` (coefficient of
variation), when a closed loop's mean concurrency in it is under :data:`MIN_FILL` of C, or when
requests failed inside it (the load was not the one asked).

Tokens in the window: a request's output tokens are spread evenly over its token events and
each event's share counts in the slice holding it, [start, end); a request's input tokens count
when its first token (the end of its prefill) falls inside. Failed requests count no tokens
(their counts are unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.serve.measure.slices import attribute, equal_bounds, token_events
from bench.serve.protocol.records import RequestRecord
from bench.stats import summarize

MAX_CV = 0.2
MIN_FILL = 0.9

START_PHASE = "steady/start"
END_PHASE = "steady/end"


def rule(closed_target: int | None) -> str:
    """The window's rule in words."""
    start = (f"the {closed_target}th first token (max concurrency {closed_target} filled and prefilled)"
             if closed_target else "the first completion (departures balance arrivals)")
    return f"from {start} to the first completion after the last request was sent (queue drains)"


def edges(records: list[RequestRecord], closed_target: int | None) -> tuple[float | None, float | None]:
    """(start, end) of the steady window from request times; None where an edge never came."""
    if not records:
        return None, None
    last_sent = max(r.dispatched for r in records)
    ends = sorted(r.end for r in records if r.end is not None)
    end = next((t for t in ends if t >= last_sent), None)
    if closed_target:
        firsts = sorted(t for t in (r.first_token for r in records) if t is not None)
        start = firsts[closed_target - 1] if len(firsts) >= closed_target else None
    else:
        start = ends[0] if ends else None
    return start, end


class SteadyTracker:
    """Finds the window's edges while the load runs and calls ``mark(phase)`` at each.

    ``mark`` returns the marker's time (the power sampler's :meth:`~bench.power.sampler.Sampler.mark`);
    the edges are those times, so energy and tokens come from one window. The load generator
    calls :meth:`sent`, :meth:`first_token` and :meth:`finished` as the events happen.
    """

    def __init__(self, total: int, closed_target: int | None, mark: Callable[[str], float]) -> None:
        self.total, self.closed_target, self.mark = total, closed_target, mark
        self.start: float | None = None
        self.end: float | None = None
        self._sent = 0
        self._firsts = 0
        self._all_sent = False

    def sent(self, rec: RequestRecord) -> None:
        """A request was sent."""
        self._sent += 1
        self._all_sent = self._sent >= self.total

    def first_token(self, rec: RequestRecord) -> None:
        """A request received its first token."""
        self._firsts += 1
        if self.closed_target and self._firsts == self.closed_target and self.start is None and self.end is None:
            self.start = self.mark(START_PHASE)

    def close(self) -> None:
        """No request will be sent after those sent so far (a soak's load stops at its deadline): the window
        ends at the next completion."""
        self.total = self._sent
        self._all_sent = self.end is None

    def finished(self, rec: RequestRecord) -> None:
        """A request ended (successfully or not)."""
        if not self.closed_target and self.start is None and self.end is None:
            self.start = self.mark(START_PHASE)
        if self._all_sent and self.end is None:
            self.end = self.mark(END_PHASE) if self.start is not None else None
            self._all_sent = False  # the window is closed (or never opened): no more marks


@dataclass
class SteadyWindow:
    """The steady window and what the server did in it."""

    start: float | None
    end: float | None
    rule: str
    output_tokens: float = 0.0
    input_tokens: float = 0.0
    completed: int = 0
    failed: int = 0
    bounds: list[float] = field(default_factory=list)
    slice_tokens: list[float] = field(default_factory=list)
    slice_rates: list[float] = field(default_factory=list)
    cv: float | None = None
    mean_concurrency: float | None = None
    target_concurrency: int | None = None
    valid: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Length in s (0 without a window)."""
        return self.end - self.start if self.start is not None and self.end is not None and self.end > self.start else 0.0

    @property
    def total_tokens(self) -> float:
        """Input plus output tokens in the window."""
        return self.output_tokens + self.input_tokens


def _mean_concurrency(records: list[RequestRecord], t0: float, t1: float) -> float:
    busy = sum(max(0.0, min(r.end, t1) - max(r.dispatched, t0)) for r in records if r.end is not None)
    return busy / (t1 - t0)


def analyse(records: list[RequestRecord], start: float | None, end: float | None, *,
            closed_target: int | None, min_duration_s: float = 0.0, bounds: list[float] | None = None) -> SteadyWindow:
    """Tokens, slices and the stability verdict of the window [start, end).

    ``bounds`` are the slice boundaries (``start`` ... ``end``, increasing: the markers the
    measurement kept); by default ``slices.SLICES`` equal slices.
    """
    win = SteadyWindow(start, end, rule(closed_target), target_concurrency=closed_target)
    if start is None or end is None or end <= start:
        if closed_target and len(records) <= closed_target:
            win.reasons.append(f"{len(records)} requests at max concurrency {closed_target}: the load never "
                               "reaches a steady state (send many more requests than the concurrency)")
        elif start is None and closed_target:
            win.reasons.append(f"fewer than {closed_target} requests received a first token: the concurrency never filled")
        else:
            win.reasons.append("no steady window: the queue started draining before the load filled "
                               "(with --request-rate inf, set --max-concurrency)")
        return win
    span = end - start
    events = token_events(records)
    win.bounds = list(bounds) if bounds else equal_bounds(start, end)
    win.slice_tokens = attribute(events, win.bounds)
    win.slice_rates = [n / (b - a) for n, a, b in zip(win.slice_tokens, win.bounds, win.bounds[1:])]
    win.output_tokens = float(sum(win.slice_tokens))
    win.input_tokens = float(sum(r.input_tokens or 0 for r in records
                                 if r.ok and r.first_token is not None and start <= r.first_token < end))
    win.completed = sum(1 for r in records if r.ok and r.end is not None and start <= r.end < end)
    win.failed = sum(1 for r in records if not r.ok and r.end is not None and start <= r.end < end)
    win.cv = summarize(win.slice_rates)["cv"] if win.output_tokens and len(win.slice_rates) > 1 else None
    win.mean_concurrency = _mean_concurrency(records, start, end)
    if span < min_duration_s:
        win.reasons.append(f"window of {span:.3g} s is shorter than the meters need ({min_duration_s:.3g} s)")
    if not win.output_tokens:
        win.reasons.append("no output tokens in the window")
    elif win.cv is not None and win.cv > MAX_CV:
        win.reasons.append(f"output token rate varies by {win.cv:.0%} (cv) across {len(win.slice_rates)} slices of the window, "
                           f"more than {MAX_CV:.0%}: the load was not steady")
    if closed_target and win.mean_concurrency < MIN_FILL * closed_target:
        win.reasons.append(f"mean concurrency {win.mean_concurrency:.2f} in the window, under {MIN_FILL:.0%} of "
                           f"max concurrency {closed_target}")
    if win.failed:
        win.reasons.append(f"{win.failed} request(s) failed inside the window")
    win.valid = not win.reasons
    return win
