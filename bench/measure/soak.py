"""Soaks, as every front end runs them: ``--soak DURATION`` read once, its windows planned, its block built.

``run --soak 2h``, ``serve --soak 90m`` and ``miners run --soak 45s`` all read the duration with
:func:`parse_duration`, plan it with :func:`plan` (the number of windows of ``--window`` seconds that
cover it, within what one run record holds), measure that many consecutive windows as one run, and give
the run its ``soak`` block with :func:`soak_block`, computed from the run's own per-window figures, which
is also how ``validate`` recomputes it (:mod:`bench.validation.soak`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bench import drift as drifts
from bench.errors import UsageError
from bench.power.meter import Meter
from bench.power.sampler import Sampler
from bench.record import Run
from bench.record.bounds import MAX_POINTS, MAX_SPAN_S, MAX_WINDOWS
from bench.record.soak import Drift, Soak, SoakPlan, SoakThrottle

#: Seconds per unit of a duration.
UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)([dhms])")
#: Without ``--window``, a soak is cut into at least this many windows (each at least the front end's own
#: window): enough for the drift's interval, few enough that the per-window figures stay quick to build.
DEFAULT_WINDOWS = 100
EXAMPLES = "e.g. 2h, 90m, 45s, 1h30m or a number of seconds"


def parse_duration(text: str, option: str = "--soak") -> float:
    """Seconds in ``text``: ``2h``, ``90m``, ``45s``, ``1h30m``, ``1.5h``, ``2d`` or a bare number of seconds.

    Raises:
        UsageError: not a duration, not positive, not finite, or longer than a run record spans.
    """
    word = text.strip().lower()
    seconds: float | None = None
    try:
        seconds = float(word)
    except ValueError:
        if word and _PART.sub("", word) == "":
            seconds = sum(float(n) * UNITS[u] for n, u in _PART.findall(word))
    if seconds is None:
        raise UsageError(f"{option} {text!r}: not a duration ({EXAMPLES})")
    if not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(f"{option} {text}: must be a positive duration ({EXAMPLES})")
    if seconds > MAX_SPAN_S:
        raise UsageError(f"{option} {text}: longer than one run record spans ({MAX_SPAN_S / 86400:.1f} days)")
    return seconds


def parse_threshold(value: float, option: str = "--drift-threshold") -> float:
    """A threshold given in percent per hour as a fraction per hour (``1`` -> ``0.01``).

    Raises:
        UsageError: not a positive finite number of at most 10,000 %/h.
    """
    if not (math.isfinite(value) and 0 < value <= 10_000):
        raise UsageError(f"{option} {value:g}: must be a positive percentage per hour (default "
                         f"{drifts.DEFAULT_THRESHOLD * 100:g})")
    return value / 100.0


@dataclass(frozen=True)
class SoakSpec:
    """A soak as asked: ``requested_s`` seconds in windows of ``window_s``, judged against ``threshold`` (/h)."""

    requested_s: float
    window_s: float
    threshold: float = drifts.DEFAULT_THRESHOLD

    def record(self) -> SoakPlan:
        """As a file's ``settings.soak``."""
        return SoakPlan(requested_s=self.requested_s, window_s=self.window_s, threshold=self.threshold)

    @classmethod
    def of(cls, plan: SoakPlan | None) -> SoakSpec | None:
        """From a file's ``settings.soak`` (None without one)."""
        return None if plan is None else cls(plan.requested_s, plan.window_s, plan.threshold)

    @property
    def windows(self) -> int:
        """Windows that cover the soak: ``ceil(requested_s / window_s)``."""
        return max(1, math.ceil(self.requested_s / self.window_s - 1e-9))


def default_window(requested_s: float, base_s: float) -> float:
    """The window of a soak given without ``--window``: the front end's own, or longer so that there are at
    most :data:`DEFAULT_WINDOWS` of them."""
    return max(base_s, requested_s / DEFAULT_WINDOWS)


def plan(text: str, window_s: float | None, base_window_s: float, threshold_pct: float | None = None,
         option: str = "--soak") -> SoakSpec:
    """The soak ``text`` asks for, in windows of ``window_s`` (None: :func:`default_window` of ``base_window_s``).

    Raises:
        UsageError: a bad duration or threshold, a window that is not positive, a soak shorter than one
            window, or more windows than a run record holds (:data:`~bench.record.bounds.MAX_WINDOWS`).
    """
    seconds = parse_duration(text, option)
    threshold = drifts.DEFAULT_THRESHOLD if threshold_pct is None else parse_threshold(threshold_pct)
    if window_s is not None and not (math.isfinite(window_s) and window_s > 0):
        raise UsageError(f"--window {window_s:g}: must be a positive number of seconds")
    window = window_s if window_s is not None else default_window(seconds, base_window_s)
    if seconds < window:
        raise UsageError(f"{option} {text}: shorter than one window ({window:g} s): a soak measures many "
                         "windows (give a longer soak or a shorter --window)")
    spec = SoakSpec(seconds, window, threshold)
    if spec.windows > MAX_WINDOWS:
        raise UsageError(f"{option} {text}: {spec.windows:,} windows of {window:g} s, more than one run holds "
                         f"({MAX_WINDOWS:,}): give a longer --window")
    return spec


def from_options(text: str | None, window_s: float | None, repeats: int | None, threshold_pct: float | None,
                 base_window_s: float) -> SoakSpec | None:
    """The soak a front end's ``--soak``, ``--window``, ``--repeats`` and ``--drift-threshold`` ask for (None
    without ``--soak``), as :func:`plan` gives it.

    Raises:
        UsageError: ``--repeats`` beside ``--soak`` (a soak's windows are its duration over the window),
            ``--drift-threshold`` without it, or what :func:`plan` refuses.
    """
    if text is None:
        if threshold_pct is not None:
            raise UsageError("--drift-threshold: only with --soak DURATION")
        return None
    if repeats is not None:
        raise UsageError("--soak and --repeats: a soak's windows are its duration over --window; give one of them")
    return plan(text, window_s, base_window_s, threshold_pct)


def check_trace(spec: SoakSpec, rate_hz: float, other_s: float = 0.0, option: str = "--soak") -> None:
    """Refuse a soak whose power trace would hold more readings than a run record keeps.

    ``rate_hz`` is the rate the sampler will poll at; ``other_s`` the run's seconds outside the windows
    (idle, warm-up, tail), which the trace covers too.

    Raises:
        UsageError: naming the longest soak at that rate and the rate that would fit this one.
    """
    points = rate_hz * (spec.requested_s + spec.window_s + other_s)
    if points <= MAX_POINTS:
        return
    longest = MAX_POINTS / rate_hz - spec.window_s - other_s
    fits = MAX_POINTS / (spec.requested_s + spec.window_s + other_s)
    raise UsageError(f"{option}: {spec.requested_s / 3600:.3g} h at {rate_hz:g} Hz is {points:,.0f} power readings "
                     f"per meter, more than a run record holds ({MAX_POINTS:,}): at most {max(longest, 0) / 3600:.3g} h "
                     f"at {rate_hz:g} Hz, or --sample-hz {math.floor(fits * 100) / 100:g} or less")


def check_meters(spec: SoakSpec, meters: list[Meter], rate_hz: float, other_s: float = 0.0,
                 option: str = "--soak") -> None:
    """:func:`check_trace` at the rate a sampler will poll ``meters`` at (raised where a counter would wrap
    between polls); nothing to check without a meter."""
    if meters:
        check_trace(spec, Sampler(meters, rate_hz=rate_hz).rate_hz, other_s, option)


def _drift(d: drifts.Drift | None) -> Drift | None:
    if d is None:
        return None
    return Drift(per_hour=d.per_hour, low=d.low, high=d.high, mean=d.mean, windows=d.windows,
                 autocorrelation=d.autocorrelation, effective_windows=d.effective_windows, verdict=d.verdict)


def _throttle(run: Run, spans: list[float]) -> list[SoakThrottle]:
    out = []
    for th in run.thermal.throttle if run.thermal is not None else []:
        seconds = covered = 0.0
        reasons: dict[str, float] = {}
        for w, span in zip(th.windows, spans):
            if w is None:
                continue
            seconds += w.seconds
            covered += span
            for name, s in w.reasons.items():
                reasons[name] = reasons.get(name, 0.0) + s
        out.append(SoakThrottle(device=th.device, source=th.source, seconds=seconds, covered_s=covered,
                                fraction=min(1.0, seconds / covered) if covered > 0 else 0.0,
                                reasons=dict(sorted(reasons.items())[:64])))
    return out


def figures(run: Run) -> tuple[list[float], list[float], list[float] | None]:
    """Each measured window's mid-time (s from the run's start), throughput, and units per joule (None when
    the run has no energy for every window)."""
    wins = run.windows
    thr = run.throughput
    n = min(len(wins), len(thr.samples))
    mids = [(w.start + w.end) / 2 for w in wins[:n]]
    rates = list(thr.samples[:n])
    energy = run.power.window_energy_j
    eff: list[float] | None = None
    if len(energy) >= n and len(thr.units) >= n and n and all(e > 0 for e in energy[:n]):
        eff = [u / e for u, e in zip(thr.units[:n], energy[:n])]
    return mids, rates, eff


def soak_block(run: Run, spec: SoakSpec) -> Soak:
    """The ``soak`` block of ``run``, measured as ``spec`` asked (see :mod:`bench.record.soak`)."""
    mids, rates, eff = figures(run)
    spans = [w.end - w.start for w in run.windows[: len(mids)]]
    thr = _drift(drifts.drift(mids, rates, spec.threshold))
    effd = _drift(drifts.drift(mids, eff, spec.threshold)) if eff is not None else None
    notes = []
    if len(mids) < spec.windows:
        notes.append(f"{len(mids)} of {spec.windows} windows measured")
    if len(mids) < drifts.MIN_WINDOWS:
        notes.append(f"{len(mids)} window(s): a drift's interval needs at least {drifts.MIN_WINDOWS}")
    if eff is None:
        notes.append("no energy for every window: no efficiency drift")
    throttle = _throttle(run, spans)
    if not throttle:
        notes.append("no source here reports throttle reasons: the time throttled is unknown")
    worst = max(throttle, key=lambda t: (t.fraction, t.seconds), default=None)
    return Soak(requested_s=spec.requested_s, window_s=spec.window_s, planned_windows=spec.windows, windows=len(mids),
                duration_s=float(sum(run.throughput.durations_s[: len(mids)])), threshold=spec.threshold,
                confidence=drifts.CONFIDENCE, method=drifts.METHOD, throughput=thr, efficiency=effd,
                verdict=drifts.overall([d.verdict for d in (thr, effd) if d is not None]),
                throttled_s=worst.seconds if worst else None, throttled_fraction=worst.fraction if worst else None,
                throttle=throttle, notes=notes)


def with_soak(run: Run, spec: SoakSpec | None) -> Run:
    """``run`` with its soak block (unchanged without a soak, or when it measured no window)."""
    if spec is None or not run.windows or not run.throughput.samples:
        return run
    return run.model_copy(update={"soak": soak_block(run, spec)})
