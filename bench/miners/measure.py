"""Measuring miners: poll them all, let each warm up, cut its windows, verify, keep the outcome.

The outcome of one miner is a :class:`MinerMeasurement` (plain data); :func:`to_run_record`
is where it will become a run record (``bench.record``, being written) so that ``size``,
``plan``, ``qualify`` and ``report`` read miner runs like any other.

Per miner, independently: its samples are split at restarts (:func:`bench.miners.window.segments`);
in each segment warm-up ends at the firmware's stability flag or the slope test
(:func:`bench.miners.warmup.settle`), then windows of ``window_s`` follow until ``repeats``
valid ones exist. Polling stops when every miner has them, or at the deadline
``2 x warmup_s + 1.5 x repeats x window_s`` (a miner that restarted needs a second warm-up);
completion is checked every quarter window.
Power per window is the firmware's own figure (``firmware_estimate``), else the model's
nameplate J/TH times the measured rate (``modelled_nameplate``); an outlet meter replaces
both in phase 2.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bench.miners import catalog
from bench.miners.client import MinerClient
from bench.miners.model import Identity, Poll, Sample
from bench.miners.poller import Poller, PollStats
from bench.miners.verify import MAX_HW_ERROR_RATE, verdict
from bench.miners.warmup import Warmup, settle
from bench.miners.window import Window, cut, segments


@dataclass(frozen=True)
class Plan:
    """How to measure: poll period, longest warm-up, window length and count (seconds)."""

    period_s: float = 5.0
    warmup_s: float = 600.0
    window_s: float = 300.0
    repeats: int = 3
    span_s: float = 60.0
    max_hw_error_rate: float = MAX_HW_ERROR_RATE

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

    def telemetry(self) -> dict[str, list[list[float]]]:
        """Per-poll series (a point on change) as ``{"key": [[t, value], ...]}``, t from the first sample."""
        series: dict[str, list[list[float]]] = {}
        t0 = self.samples[0].t if self.samples else 0.0

        def put(key: str, t: float, value: float | None) -> None:
            if value is not None and (key not in series or series[key][-1][1] != value):
                series.setdefault(key, []).append([round(t - t0, 3), value])

        for p in self.samples:
            if not isinstance(p, Poll):
                continue
            put("hashrate_hs", p.t, p.rates_hs.get("5s", p.rates_hs.get("realtime")))
            put("power_w_firmware", p.t, p.power_w)
            put("hw_errors", p.t, p.hw_errors)
            for b in p.boards:
                put(f"board{b.index}_temp_c", p.t, b.temp_board_c)
                put(f"board{b.index}_chip_temp_c", p.t, b.temp_chip_c)
                put(f"board{b.index}_chips", p.t, b.chips)
            for i, rpm in enumerate(p.fans_rpm):
                put(f"fan{i}_rpm", p.t, rpm)
        return series


def measured_windows(samples: list[Sample], plan: Plan) -> tuple[list[Warmup], list[Window], list[tuple[float, str]]]:
    """Warm-ups, windows and breaks of one miner's samples so far (no verdict: cheap enough per tick)."""
    runs, breaks = segments(samples)
    failures = [s.t for s in samples if not isinstance(s, Poll)]
    warmups: list[Warmup] = []
    windows: list[Window] = []
    for k, run in enumerate(runs):
        end_reason = breaks[k][1] if k < len(breaks) else None
        warm = settle(run, limit_s=plan.warmup_s, span_s=min(plan.span_s, plan.window_s))
        warmups.append(warm)
        valid = sum(w.valid for w in windows)
        if warm.t_end is None or valid >= plan.repeats:
            continue
        new = cut(run, failures, warm.t_end, plan.window_s, plan.repeats - valid, len(windows), end_reason)
        if not warm.stable:
            new = [replace(w, invalid_reasons=(*w.invalid_reasons, warm.reason)) for w in new]
        windows += new
    return warmups, windows, breaks


def analyse(identity: Identity, samples: list[Sample], plan: Plan) -> MinerMeasurement:
    """The measurement of one miner from its samples so far, with its verdict and power source."""
    warmups, windows, breaks = measured_windows(samples, plan)
    ok, reasons = verdict(windows, plan.max_hw_error_rate)
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
                  on_sample: Callable[[str, int, Sample], None] | None = None) -> tuple[list[MinerMeasurement], PollStats]:
    """Poll ``clients`` until each has ``plan.repeats`` valid windows (or the deadline); one result each."""
    poller = Poller(list(clients), plan.period_s, on_sample=on_sample)
    loop = asyncio.get_running_loop()
    t_end = loop.time() + plan.deadline_s

    async def watch() -> None:
        done: set[str] = set()  # checked at most every quarter window: a full check costs ~ms per miner
        while loop.time() < t_end:
            await asyncio.sleep(min(max(plan.period_s, plan.window_s / 4), max(t_end - loop.time(), 0.0)))
            done |= {a for a in poller.samples if a not in done and complete(poller.samples[a], plan)}
            if len(done) == len(poller.samples):
                break
        poller.stop()

    stats, _ = await asyncio.gather(poller.run(), watch())
    return [analyse(c.identity, poller.samples[c.identity.address], plan) for c in clients], stats


def to_run_record(*, identity: Identity, window_hashes: Sequence[float], window_durations_s: Sequence[float],
                  window_power_w: Sequence[float | None], power_source: str,
                  telemetry: Mapping[str, Sequence[Sequence[float]]], verified: bool,
                  verify_reasons: Sequence[str], notes: Sequence[str] = ()) -> Any:
    """TODO(phase 2, needs ``bench.record``): one finished miner measurement as a run record.

    From a :class:`MinerMeasurement` ``m`` the arguments are: ``identity=m.identity``,
    ``window_hashes=[w.hashes for w in m.valid_windows]``, ``window_durations_s=[w.duration_s ...]``,
    ``window_power_w`` (per valid window, W), ``power_source=m.power_source``,
    ``telemetry=m.telemetry()``, ``verified=m.verified``, ``verify_reasons=m.verify_reasons``,
    ``notes`` (warm-up reasons, breaks, invalid windows).

    The record it must produce: workload ``sha256d``, unit ``hash``, device ``asic:HOST``;
    system = make, model, firmware, serial, chips expected/present; throughput samples =
    ``hashes / duration`` per window (median over them); power from the same windows with
    ``scope`` ``wall`` for an outlet meter, ``firmware_estimate`` (quality level at most 1)
    or MODELLED for ``modelled_nameplate`` (``measured: false``); efficiency = total hashes /
    total joules; telemetry as for GPUs (``meters[].telemetry``); ``verified`` with its reasons.
    """
    raise NotImplementedError("miner run records need bench.record (phase 2)")
