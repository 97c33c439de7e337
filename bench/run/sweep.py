"""Sweeps of a machine knob: ``run --power-limit 300,400,max``, ``--power-limit 200:500:50``, ``--sm-clocks``.

Everything is checked before anything changes (:func:`plan_sweep`): the option's words, the knob on
this device, the permission it needs, every point against the device's own range. Then each point is
set through the one :class:`~bench.power.knobs.guard.KnobGuard` of the run (the original journaled and
synced first), left to settle, and measured as a run of its own for each workload: the usual idle,
warm-up, windows, verification, each record carrying its :class:`~bench.record.setting.Setting`
(:func:`run_sweep`). Putting the knobs back is the session's: it restores them once stop signals are
held, whatever ended the sweep (:mod:`bench.run.session`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bench.errors import UsageError
from bench.measure.phases import ProgressFn
from bench.measure.runrecord import RunHead
from bench.power.knobs.guard import KnobGuard, check_before_change
from bench.power.knobs.knob import STOCK_WORDS, Knob, KnobFailed, KnobRefused, Point, Value
from bench.power.knobs.open import open_knobs
from bench.power.knobs.points import parse_points
from bench.power.sampler import Sampler
from bench.record import Run, Timing, utc_now
from bench.record.setting import Setting
from bench.run.runner import AlignFn, RunLog, RunSpec, SuiteOutcome, run_suite

#: Per option: the knob it sweeps on each kind of device.
KNOBS: dict[str, dict[str, str]] = {
    "--power-limit": {"cuda": "gpu.power_limit", "cpu": "cpu.package_limit"},
    "--sm-clocks": {"cuda": "gpu.sm_clocks"},
}


@dataclass
class SweepPoint:
    """One position of the sweep: the word asked for and its :class:`Point` on each knob (in knob order)."""

    word: str
    points: list[Point]

    @property
    def stock(self) -> bool:
        """True when every knob is at its device's own default at this point."""
        return all(p.stock for p in self.points)


def _equal(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def _same(values: Sequence[object]) -> bool:
    return all(_equal(v, values[0]) for v in values)


def _show(value: Value, unit: str) -> str:
    return f"{value:g} {unit}" if isinstance(value, (int, float)) else str(value)


@dataclass
class Sweep:
    """The knobs of one kind on the run's device (one per CPU package, one GPU) and the points to visit."""

    option: str
    kind: str
    knobs: list[Knob]
    points: list[SweepPoint]
    settle_s: float
    notes: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        """The targets together: ``gpu:0``, ``intel-rapl:0+intel-rapl:1``."""
        return "+".join(k.target for k in self.knobs)

    @property
    def unit(self) -> str:
        """The knobs' unit."""
        return self.knobs[0].unit

    def describe(self, point: SweepPoint) -> str:
        """``gpu.power_limit on gpu:0 at 300 W`` (``max`` shown with what it means)."""
        value = _show(point.points[0].value, self.unit) if _same([p.value for p in point.points]) else \
            ", ".join(f"{k.target} {_show(p.value, self.unit)}" for k, p in zip(self.knobs, point.points))
        said = f" ({point.word})" if point.word in STOCK_WORDS else ""
        return f"{self.kind} on {self.target} at {value}{said}"

    def requested(self, point: SweepPoint) -> Setting:
        """The setting asked for at ``point``, before it is applied (nothing read back)."""
        return self._setting(point, None, None)

    def apply(self, guard: KnobGuard, point: SweepPoint) -> Setting:
        """Set every knob to its value at ``point`` (each original journaled first) and return the setting.

        Raises:
            KnobRefused, KnobFailed, OSError: a knob did not take its value (the sweep stops; the session
                puts back every knob changed so far).
        """
        read_back = [guard.apply(knob, p.value) for knob, p in zip(self.knobs, point.points)]
        originals: list[Value | None] = [guard.original(knob) for knob in self.knobs]
        return self._setting(point, read_back, originals)

    def _setting(self, point: SweepPoint, read_back: list[Value] | None,
                 originals: list[Value | None] | None) -> Setting:
        requested = [p.value for p in point.points]
        notes = [n for p in point.points for n in p.notes]
        limits = [k.limit_w(v) for k, v in zip(self.knobs, read_back or requested)]
        for what, values in (("requested", requested), ("read back", read_back), ("original", originals)):
            if values is not None and not _same(values):
                notes.append(f"{what} per target: " + ", ".join(
                    f"{k.target} {v if v is None else _show(v, self.unit)}" for k, v in zip(self.knobs, values)))
        if len(self.knobs) > 1 and _same(requested):
            notes.append(f"{_show(requested[0], self.unit)} on each of {len(self.knobs)} targets")
        if read_back is not None:
            for knob, asked, got in zip(self.knobs, requested, read_back):
                if not _equal(asked, got):
                    notes.append(f"{knob.target} read back {_show(got, self.unit)} for "
                                 f"{_show(asked, self.unit)} asked")
        return Setting(knob=self.kind, target=self.target, unit=self.unit, requested=requested[0],
                       read_back=read_back[0] if read_back else None,
                       original=originals[0] if originals else None, stock=point.stock,
                       limit_w=sum(x for x in limits if x is not None) if all(x is not None for x in limits) else None,
                       settle_s=self.settle_s, notes=[n[:2000] for n in [*self.notes, *notes]])


def _point(knob: Knob, word: str) -> Point:
    value = knob.resolve(word)
    stock = word in ("stock", "default")
    if not stock:
        try:
            stock = value == knob.stock()
        except (KnobFailed, OSError):
            stock = False
    return Point(word, value, stock)


def plan_sweep(device: str, power_limit: str | None = None, sm_clocks: str | None = None,
               settle_s: float | None = None) -> Sweep | None:
    """The sweep the options ask for on ``device`` (None without one), checked before anything changes.

    Raises:
        UsageError: two knobs at once, a knob this device has not, bad words, ``--settle`` alone or negative.
        KnobRefused: no permission to change the knob, a value outside the device's own range, a word
            the knob does not know (each one line, exit 2; nothing was changed).
    """
    given = [(o, t) for o, t in (("--power-limit", power_limit), ("--sm-clocks", sm_clocks)) if t is not None]
    if settle_s is not None and (not math.isfinite(settle_s) or settle_s < 0):
        raise UsageError(f"--settle {settle_s}: must be 0 or more seconds")
    if not given:
        if settle_s is not None:
            raise UsageError("--settle: only with a sweep (--power-limit or --sm-clocks)")
        return None
    if len(given) > 1:
        raise UsageError("--power-limit and --sm-clocks: one knob per sweep (run one sweep after the other)")
    option, text = given[0]
    words = parse_points(option, text)
    kind = KNOBS[option].get(device.partition(":")[0])
    if kind is None:
        have = ", ".join(d for d in KNOBS[option])
        raise UsageError(f"{option}: no such knob on --device {device} (it sweeps a knob on: {have})")
    try:
        knobs = open_knobs(kind, device)
    except KnobRefused as exc:
        raise KnobRefused(f"{option}: {exc}; nothing was changed") from None
    except KnobFailed as exc:
        raise UsageError(f"{option}: {kind} on {device} cannot be read ({exc}); nothing was changed") from None
    if not knobs:
        raise UsageError(f"{option}: no {kind} knob found on {device}; nothing was changed")
    check_before_change(knobs, [])  # the permission first: without it nothing else matters
    try:
        points = [SweepPoint(word, [_point(knob, word) for knob in knobs]) for word in words]
        check_before_change(knobs, [(knob, p.value) for sp in points for knob, p in zip(knobs, sp.points)])
    except KnobRefused as exc:
        raise KnobRefused(f"{option}: {exc}; nothing was changed") from None
    except (KnobFailed, OSError) as exc:
        raise UsageError(f"{option}: {kind} on {device} cannot be read ({exc}); nothing was changed") from None
    seen: dict[tuple[Value, ...], str] = {}
    for sp in points:
        key = tuple(p.value for p in sp.points)
        if key in seen:
            raise UsageError(f"{option}: {seen[key]} and {sp.word} are the same setting "
                             f"({_show(key[0], knobs[0].unit)})")
        seen[key] = sp.word
    settle = settle_s if settle_s is not None else max(k.settle_s for k in knobs)
    return Sweep(option, kind, knobs, points, settle, _knob_notes(knobs))


def _knob_notes(knobs: list[Knob]) -> list[str]:
    """What each knob says makes its value mean less than it says (a powercap zone not enforcing its limit)."""
    return [str(n) for knob in knobs for n in knob.notes()]


Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def _not_applied(spec: RunSpec, why: str) -> Run:
    head = RunHead(workload=spec.workload.name, device=spec.device, unit=spec.workload.unit, params=spec.params,
                   preset=spec.preset, started=utc_now())
    return spec.record(head.failed("failed", why))


def _fresh(specs: list[RunSpec], k: int) -> list[RunSpec]:
    """The specs for point ``k``: the first point runs the instances given, each later one its own."""
    return specs if k == 0 else [replace(s, workload=type(s.workload)()) for s in specs]


def run_sweep(sweep: Sweep, specs: list[RunSpec], timing: Timing, sampler: Sampler | None, guard: KnobGuard, *,
              progress: Callable[[RunSpec], ProgressFn] | None = None, log: RunLog | None = None,
              align: AlignFn | None = None, say: Say = _quiet) -> SuiteOutcome:
    """Every point in order: set it, wait its settle time, run every spec at it.

    A point the device does not take ends the sweep there, its runs recorded as failed with the reason.
    Ctrl-C or a stop signal ends it with the run in progress (or the next) recorded as interrupted. The
    knobs are not put back here: the caller restores them through ``guard`` once stop signals are held.
    """
    out = SuiteOutcome([])
    todo: list[RunSpec] = []
    try:
        for k, point in enumerate(sweep.points):
            todo = [replace(s, setting=sweep.requested(point)) for s in _fresh(specs, k)]
            try:
                setting = sweep.apply(guard, point)
            except (KnobFailed, KnobRefused, OSError) as exc:
                why = f"the sweep stopped: {sweep.describe(point)} was not applied: {exc}"[:2000]
                say(why)
                for spec in todo:
                    run = _not_applied(spec, why)
                    out.runs.append(run)
                    if log is not None:
                        log.run(run)
                todo = []
                break
            todo = [replace(s, setting=setting) for s in todo]
            guard.write({"type": "sweep-point", "index": k, "setting": setting.to_json()})
            read = f" (read back {_show(setting.read_back, sweep.unit)})" if setting.read_back is not None and \
                not _equal(setting.read_back, setting.requested) else ""
            say(f"point {k + 1}/{len(sweep.points)}: {sweep.describe(point)}{read}; settling {setting.settle_s:g} s")
            time.sleep(setting.settle_s)
            aligned = (lambda name, k=k: align(f"p{k}/{name}")) if align is not None else None
            suite = run_suite(todo, timing, sampler, progress, log, align=aligned)
            out.runs += suite.runs
            todo = []
            if suite.stopped is not None:
                out.stopped = suite.stopped
                break
    except KeyboardInterrupt as exc:  # while setting a point or letting it settle
        stopped = SuiteOutcome([])
        stopped.stop(exc, todo, log)
        out.runs += stopped.runs
        out.stopped = exc
    return out
