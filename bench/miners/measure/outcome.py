"""Measuring miners: poll them all, let each warm up, cut its windows, verify, keep the outcome.

The outcome of one miner is a :class:`MinerMeasurement` (plain data); :mod:`bench.miners.record.runrecord`
turns it into a run record so that ``size``, ``plan``, ``qualify`` and ``report`` read miner
runs like any other.

Per miner, independently: its samples are split at restarts (:func:`bench.miners.measure.window.segments`);
in each segment warm-up ends at the firmware's stability flag or the slope test
(:func:`bench.miners.measure.warmup.settle`), then windows of ``window_s`` follow until ``repeats``
valid ones exist. The windows a run record uses are contiguous (one definition of every
figure: rate and power over the same span), so they come from one segment: a restart before
a segment has all its windows discards that segment's windows (kept, invalid, with the reason)
and the count starts again after the next warm-up. Polling stops when every miner has its
windows, at the deadline ``2 x warmup_s + 1.5 x repeats x window_s`` (a miner that restarted
needs a second warm-up), or when asked to stop; completion is checked every quarter window.
:func:`analyse` labels the firmware's power (``firmware_estimate``) or the model's nameplate
J/TH times the measured rate (``modelled_nameplate``); an outlet meter replaces both in the record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bench.miners.measure import telemetry
from bench.miners.measure.poller import Poller, PollStats
from bench.miners.measure.verify import MAX_HW_ERROR_RATE, verdict
from bench.miners.measure.warmup import MIN_INTERVALS, Warmup, settle
from bench.miners.measure.window import Window, cut, segments
from bench.miners.protocol import catalog
from bench.miners.protocol.client import MinerClient
from bench.miners.protocol.model import Identity, Poll, Sample


@dataclass(frozen=True)
class Plan:
    """How to measure: poll period, longest warm-up, window length and count (seconds)."""

    period_s: float = 5.0
    warmup_s: float = 600.0
    window_s: float = 300.0
    repeats: int = 3
    span_s: float = 60.0
    max_hw_error_rate: float = MAX_HW_ERROR_RATE
    #: Miners measured together: the pool check's confidence is shared among them (see bench.miners.measure.verify).
    miners: int = 1

    @property
    def slope_span_s(self) -> float:
        """The span the warm-up's slope test fits: ``span_s`` (or the window, if shorter), but at least
        :data:`~bench.miners.measure.warmup.MIN_INTERVALS` + 1 poll periods, which the test needs to judge at all."""
        return max(min(self.span_s, self.window_s), (MIN_INTERVALS + 1) * self.period_s)

    @property
    def deadline_s(self) -> float:
        """Polling ends by then even when some miner is short of valid windows."""
        return 2 * self.warmup_s + 1.5 * self.repeats * self.window_s + 2 * self.period_s


@dataclass
class MinerMeasurement:
    """Everything measured of one miner: samples, warm-ups, windows and the verdict."""

    identity: Identity
    samples: list[Sample]
    warmups: list[Warmup]
    windows: list[Window]
    breaks: list[tuple[float, str]]
    verified: bool
    verify_reasons: list[str]
    power_source: str
    window_power_w: list[float | None] = field(default_factory=list)

    @property
    def valid_windows(self) -> list[Window]:
        """The windows throughput and efficiency come from."""
        return [w for w in self.windows if w.valid]

    @property
    def polls(self) -> list[Poll]:
        """The successful polls, in order."""
        return [p for p in self.samples if isinstance(p, Poll)]

    def telemetry(self) -> dict[str, list[list[float]]]:
        """Per-poll series (:mod:`bench.miners.measure.telemetry`), t from the first sample."""
        return telemetry.series(self.polls, self.samples[0].t if self.samples else 0.0)


RESTARTED = "the miner restarted before this segment had all its windows: measured again after the restart"


def measured_windows(samples: list[Sample], plan: Plan) -> tuple[list[Warmup], list[Window], list[tuple[float, str]]]:
    """Warm-ups, windows and breaks of one miner's samples so far (no verdict: cheap enough per tick).

    The valid windows all lie in one segment and are contiguous: the first segment with ``repeats``
    valid windows, else the last one (windows of earlier segments are invalid, with :data:`RESTARTED`).
    """
    runs, breaks = segments(samples)
    failures = [s.t for s in samples if not isinstance(s, Poll)]
    warmups: list[Warmup] = []
    windows: list[Window] = []
    for k, run in enumerate(runs):
        end_reason = breaks[k][1] if k < len(breaks) else None
        warm = settle(run, limit_s=plan.warmup_s, span_s=plan.slope_span_s)
        warmups.append(warm)
        if warm.t_end is None:
            continue
        new = cut(run, failures, warm.t_end, plan.window_s, plan.repeats, len(windows), end_reason)
        if not warm.stable:
            new = [replace(w, invalid_reasons=(*w.invalid_reasons, warm.reason)) for w in new]
        if sum(w.valid for w in new) >= plan.repeats:
            return warmups, windows + new, breaks
        if k < len(runs) - 1:
            new = [w if not w.valid else replace(w, invalid_reasons=(RESTARTED,)) for w in new]
        windows += new
    return warmups, windows, breaks


def analyse(identity: Identity, samples: list[Sample], plan: Plan) -> MinerMeasurement:
    """The measurement of one miner from its samples so far, with its verdict and power source."""
    warmups, windows, breaks = measured_windows(samples, plan)
    ok, reasons = verdict(windows, plan.max_hw_error_rate, plan.miners)
    spec = catalog.lookup(identity.model)
    if any(w.power_w is not None for w in windows):
        source, power = "firmware_estimate", [w.power_w for w in windows]
    elif spec is not None and spec.j_per_th is not None:
        source = "modelled_nameplate"
        power = [None if w.throughput_hs is None else spec.j_per_th * w.throughput_hs / 1e12 for w in windows]
    else:
        source, power = "none", [None for _ in windows]
    return MinerMeasurement(identity, samples, warmups, windows, breaks, ok, reasons, source, power)


def complete(samples: list[Sample], plan: Plan) -> bool:
    """True once the miner has ``repeats`` valid windows."""
    return sum(w.valid for w in measured_windows(samples, plan)[1]) >= plan.repeats


async def measure(clients: Sequence[MinerClient], plan: Plan,
                  on_sample: Callable[[str, int, Sample], None] | None = None, *,
                  on_tick: Callable[[set[str], dict[str, list[Sample]]], None] | None = None,
                  stop: asyncio.Event | None = None) -> tuple[list[MinerMeasurement], PollStats]:
    """Poll ``clients`` until each has ``plan.repeats`` valid windows, the deadline or ``stop``; one result each.

    Args:
        on_sample: called with (``host:port``, tick, sample) as each sample arrives (the journal).
        on_tick: called at each completion check with the addresses complete so far and every miner's samples.
        stop: set it to end polling early (a stop signal): the samples so far are analysed.
    """
    poller = Poller(list(clients), plan.period_s, on_sample=on_sample)
    loop = asyncio.get_running_loop()
    t_end = loop.time() + plan.deadline_s
    stop = stop or asyncio.Event()

    async def watch() -> None:
        done: set[str] = set()  # checked at most every quarter window: a full check costs ~ms per miner
        while loop.time() < t_end and not stop.is_set():
            wait = min(max(plan.period_s, plan.window_s / 4), max(t_end - loop.time(), 0.0))
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except asyncio.TimeoutError:
                pass
            done |= {a for a in poller.samples if a not in done and complete(poller.samples[a], plan)}
            if on_tick is not None:
                on_tick(set(done), poller.samples)
            if len(done) == len(poller.samples):
                break
        poller.stop()

    stats, _ = await asyncio.gather(poller.run(), watch())
    return [analyse(c.identity, poller.samples[c.identity.address], plan) for c in clients], stats
