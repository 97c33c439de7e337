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
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bench.drift import DEFAULT_THRESHOLD
from bench.measure.soak import SoakSpec
from bench.miners.measure import telemetry
from bench.miners.measure.plausible import RATE_TOLERANCE, Bound, bound
from bench.miners.measure.poller import Poller, PollStats
from bench.miners.measure.verify import MAX_HW_ERROR_RATE, verdict
from bench.miners.measure.warmup import MIN_INTERVALS, Warmup, settle
from bench.miners.measure.window import Window, cut, segments
from bench.miners.protocol.client import MinerClient
from bench.miners.protocol.model import Identity, Poll, Sample
from bench.record.bounds import MAX_SPAN_S


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
    #: How far over its nameplate a miner's rate may be (bench.miners.measure.plausible).
    rate_tolerance: float = RATE_TOLERANCE
    #: Windows on a wall-clock grid: the first starts at the first poll at or after a multiple of ``window_s``
    #: in UTC once warm, each next at the first poll at or after the next multiple (a fleet's shards line up;
    #: bench.miners.fleet.runid, bench.miners.measure.window.cut).
    aligned: bool = False
    #: ``--soak``: the seconds the windows cover (``repeats`` of them) and the drift threshold (fraction per hour).
    soak_s: float | None = None
    drift_threshold: float = DEFAULT_THRESHOLD

    @property
    def soak(self) -> SoakSpec | None:
        """The soak these windows measure (None: not a soak, or one a journal gives out of bounds)."""
        if self.soak_s is None or not (0 < self.soak_s <= MAX_SPAN_S and 0 < self.drift_threshold <= 100):
            return None
        return SoakSpec(self.soak_s, self.window_s, self.drift_threshold)

    @property
    def slope_span_s(self) -> float:
        """The span the warm-up's slope test fits: ``span_s`` (or the window, if shorter), but at least
        :data:`~bench.miners.measure.warmup.MIN_INTERVALS` + 1 poll periods, which the test needs to judge at all."""
        return max(min(self.span_s, self.window_s), (MIN_INTERVALS + 1) * self.period_s)

    @property
    def deadline_s(self) -> float:
        """Polling ends by then even when some miner is short of valid windows."""
        return 2 * self.warmup_s + (1.5 * self.repeats + self.aligned) * self.window_s + 2 * self.period_s


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
    limits: Bound | None = None
    power_refused: str | None = None

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
CUT_SHORT = ("an implausible window (a counter glitch, or a lie) cut this stretch short before it had all its "
             "windows: measured again after it")


def measured_windows(samples: list[Sample], plan: Plan, limits: Bound | None = None,
                     ) -> tuple[list[Warmup], list[Window], list[tuple[float, str]]]:
    """Warm-ups, windows and breaks of one miner's samples so far (no verdict: cheap enough per tick).

    ``limits``: the model's bounds (:mod:`bench.miners.measure.plausible`): counter jumps over them are
    breaks, and a window whose rate is over the model's ceiling is invalid, with the reason; the windows
    after it are measured on, in the same segment.

    The valid windows are contiguous: those of one stretch of a segment between restarts, breaks and
    implausible windows; the first stretch with ``repeats`` valid windows, else the last stretch cut so far
    (a segment still warming up has none: the windows measured before it stay). The valid windows of the
    other stretches are invalid, with :data:`RESTARTED` or :data:`CUT_SHORT`.
    """
    runs, breaks = segments(samples, limits)
    failures = [s.t for s in samples if not isinstance(s, Poll)]
    warmups: list[Warmup] = []
    windows: list[Window] = []
    stretch: list[int] = []  # the stretch each window belongs to (-1: an implausible window)
    ended: list[str] = []  # why each stretch ended
    for k, run in enumerate(runs):
        end_reason = breaks[k][1] if k < len(breaks) else None
        warm = settle(run, limit_s=plan.warmup_s, span_s=plan.slope_span_s)
        warmups.append(warm)
        if warm.t_end is None:
            continue
        start = _on_grid(run, warm.t_end, plan.window_s) if plan.aligned else warm.t_end
        if start is None:
            continue
        while True:
            new = cut(run, failures, start, plan.window_s, plan.repeats, len(windows), end_reason, plan.aligned)
            if not warm.stable:
                new = [replace(w, invalid_reasons=(*w.invalid_reasons, warm.reason)) for w in new]
            why = [None if limits is None else limits.rate_reason(w.throughput_hs) for w in new]
            bad = next((i for i, reason in enumerate(why) if reason), None)
            reason = why[bad] if bad is not None else None
            here = len(ended)
            if reason is None:
                windows += new
                stretch += [here] * len(new)
                if sum(w.valid for w in new) >= plan.repeats:
                    return warmups, _keep(windows, stretch, here, ended), breaks
                ended.append(RESTARTED)
                break
            assert bad is not None and reason is not None
            refused = replace(new[bad], invalid_reasons=(*new[bad].invalid_reasons, reason))
            windows += [*new[:bad], refused]
            stretch += [here] * bad + [-1]
            ended.append(CUT_SHORT)
            start = refused.t_end
    return warmups, _keep(windows, stretch, len(ended) - 1, ended), breaks


def _on_grid(run: list[Poll], t: float, window_s: float) -> float | None:
    """The time of the first poll of ``run`` at or after ``t`` whose wall clock is at or past the next multiple of
    ``window_s`` in UTC (None: the segment has not reached it yet)."""
    at = next((p for p in run if p.t >= t), None)
    if at is None:
        return None
    boundary = math.ceil(at.wall / window_s - 1e-9) * window_s
    return next((p.t for p in run if p.t >= t and p.wall >= boundary), None)


def _keep(windows: list[Window], stretch: list[int], chosen: int, ended: list[str]) -> list[Window]:
    """The windows, the valid ones of every stretch but ``chosen`` made invalid with why their stretch ended."""
    return [w if s in (chosen, -1) or not w.valid else replace(w, invalid_reasons=(ended[s],))
            for w, s in zip(windows, stretch)]


def _firmware_power(windows: list[Window]) -> tuple[float, float] | None:
    """The firmware's mean power over the valid windows that have one, and the rate over the same windows."""
    used = [(w, w.power_w) for w in windows if w.valid and w.power_w is not None and w.duration_s > 0]
    seconds = sum(w.duration_s for w, _ in used)
    if not used or seconds <= 0:
        return None
    return sum(p * w.duration_s for w, p in used) / seconds, sum(w.hashes for w, _ in used) / seconds


def analyse(identity: Identity, samples: list[Sample], plan: Plan) -> MinerMeasurement:
    """The measurement of one miner from its samples so far, with its verdict and power source.

    The model's bounds (:mod:`bench.miners.measure.plausible`) drop implausible windows and refuse an
    implausible firmware power figure (the run is then not verified, its power the nameplate model's)."""
    polls = [s for s in samples if isinstance(s, Poll)]
    limits = bound(identity, polls, plan.rate_tolerance)
    warmups, windows, breaks = measured_windows(samples, plan, limits)
    ok, reasons = verdict(windows, plan.max_hw_error_rate, plan.miners, limits)
    fw = _firmware_power(windows)
    refused = None if fw is None else limits.power_reason(*fw)
    if refused is not None:
        ok, reasons = False, [refused, *reasons] if ok else [*reasons[:1], refused, *reasons[1:]]
    if fw is not None and refused is None:
        source, power = "firmware_estimate", [w.power_w for w in windows]
    elif limits.j_per_th is not None:
        source = "modelled_nameplate"
        power = [None if w.throughput_hs is None else limits.j_per_th * w.throughput_hs / 1e12 for w in windows]
    else:
        source, power = "none", [None for _ in windows]
    return MinerMeasurement(identity, samples, warmups, windows, breaks, ok, reasons, source, power, limits, refused)


def valid_windows(samples: list[Sample], plan: Plan, identity: Identity | None = None) -> list[Window]:
    """The valid windows of one miner's samples so far (judged against ``identity``'s model when given)."""
    limits = None if identity is None else bound(identity, [s for s in samples if isinstance(s, Poll)],
                                                  plan.rate_tolerance)
    return [w for w in measured_windows(samples, plan, limits)[1] if w.valid]


def complete(samples: list[Sample], plan: Plan, identity: Identity | None = None) -> bool:
    """True once the miner has ``repeats`` valid windows (judged against ``identity``'s model when given)."""
    return len(valid_windows(samples, plan, identity)) >= plan.repeats


#: Miners checked (or handed to ``on_tick``) between turns of the event loop: checking a miner costs up to a
#: millisecond and making its record a few, so thousands at once would hold the polls due meanwhile for seconds.
SLICE = 32


async def measure(clients: Sequence[MinerClient], plan: Plan,
                  on_sample: Callable[[str, int, Sample], None] | None = None, *,
                  on_tick: Callable[[set[str], dict[str, list[Sample]]], None] | None = None,
                  on_windows: Callable[[dict[str, list[Window]]], object] | None = None,
                  stop: asyncio.Event | None = None) -> tuple[list[MinerMeasurement], PollStats]:
    """Poll ``clients`` until each has ``plan.repeats`` valid windows (a miner that has them is polled no more),
    the deadline or ``stop``; one result each.

    Args:
        on_sample: called with (``host:port``, tick, sample) as each sample arrives (the journal).
        on_tick: called at each completion check with the addresses complete so far and every miner's samples
            (the newly complete :data:`SLICE` at a time, the event loop turning between calls).
        on_windows: called at each completion check with every miner's valid windows so far (a soak's trend).
        stop: set it to end polling early (a stop signal): the samples so far are analysed.
    """
    poller = Poller(list(clients), plan.period_s, on_sample=on_sample)
    identity = {c.identity.address: c.identity for c in clients}
    loop = asyncio.get_running_loop()
    t_end = loop.time() + plan.deadline_s
    stop = stop or asyncio.Event()

    async def watch() -> None:
        done: set[str] = set()  # checked at most every quarter window: a full check costs ~ms per miner
        told: set[str] = set()
        windows: dict[str, list[Window]] = {a: [] for a in poller.samples}
        while loop.time() < t_end and not stop.is_set():
            wait = min(max(plan.period_s, plan.window_s / 4), max(t_end - loop.time(), 0.0))
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except asyncio.TimeoutError:
                pass
            for i, a in enumerate(poller.samples):
                if a not in done:
                    windows[a] = valid_windows(poller.samples[a], plan, identity[a])
                    if len(windows[a]) >= plan.repeats:
                        done.add(a)
                        poller.retire(a)  # its windows are measured: its polls would only cost the others time
                if i % SLICE == SLICE - 1:
                    await asyncio.sleep(0)  # the polls due meanwhile go out
            if on_windows is not None:
                on_windows(windows)
            if on_tick is not None:
                new = sorted(done - told)
                for i in range(0, max(len(new), 1), SLICE):  # a miner's record costs ms: a slice at a time
                    told.update(new[i:i + SLICE])
                    on_tick(set(told), poller.samples)
                    await asyncio.sleep(0)
            if len(done) == len(poller.samples):
                break
        poller.stop()

    stats, _ = await asyncio.gather(poller.run(), watch())
    return [analyse(c.identity, poller.samples[c.identity.address], plan) for c in clients], stats
