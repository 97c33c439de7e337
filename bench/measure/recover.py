"""Rebuilding a result file from the journal of a run that was killed (SIGKILL, a crash, a power cut).

The journal is read across the file boundary first (:mod:`bench.measure.journalfile`): limits,
checksums, strict JSON, typed lines; a journal with checksums is put back in the order of its
sequence numbers. Then, run by run:

- a completed run comes back exactly as its ``run`` line holds it;
- a run whose record is not in the journal intact (its line damaged, or missing from the sequence)
  is rebuilt from its ``run-start`` line, its ``window`` lines and its readings and markers, through
  the same power layer a live run uses, and says so in ``metrics.recovered`` with the line numbers
  (``ok`` when all its windows and its idle tail are there, else ``interrupted``);
- the run in progress when the journal stopped comes back the same way, ``interrupted`` unless it
  had finished measuring;
- a run of which nothing identifying survived is reported lost.

Temperatures come back too: the sources a run polled (``thermal-source`` lines, their ``thermal`` readings
and ``thermal-gap`` lines) and the temperatures a meter read with its power (``meter-channels``, with the
readings' own figures) give a rebuilt run its ``thermal`` block through the code a live run uses
(:func:`Journaled.polled`, :func:`bench.measure.replay.replay_thermal`).

A knob sweep's lines (``knob``, ``knob_set``, ``knob_restored``, ``knob_restore_failed``,
``sweep-point``) are read for every front end: :attr:`Recovery.knob_lines` are what ``recover``
hands to :func:`bench.power.knobs.guard.restore_journaled` to put back every knob a killed run
left changed, and a run rebuilt from its windows gets the setting of the sweep point it ran at.

Nothing is dropped silently: every line that could not be used is one
:class:`~bench.measure.journalfile.Damage` in :attr:`Recovery.damage`, by line number, with its bytes
and what became of what it held. Only a last line cut short by the crash (never complete) is not a loss.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench.errors import InvalidResultFile
from bench.measure.journal import SUFFIX
from bench.measure.journalfile import (
    Damage,
    FileRead,
    Header,
    Limits,
    Line,
    MarkerLine,
    MeterChannels,
    MeterGap,
    MeterReading,
    RunStart,
    ThermalGap,
    ThermalReading,
    ThermalSourceLine,
    Window,
    read_file,
)
from bench.measure.replay import ReplayMeter, ReplaySource, replay_thermal
from bench.measure.runrecord import RunHead, measured_run
from bench.measure.soak import SoakSpec, with_soak
from bench.power.meter import Meter, Reading
from bench.power.sampler import Gap, Marker, Sampler
from bench.power.thermal.sampler import ThermalSampler
from bench.power.window.block import power_block
from bench.record import Document, MeterFigure, Phase, Run, System, new_document, no_power
from bench.record.io import first_error
from bench.record.setting import Setting

#: A front end's own journal format: ``detect(journal)`` says a journal is one of its own,
#: ``rebuild(journal)`` gives its runs (and reports the lines it refuses with :meth:`Journaled.refuse`).
#: Front ends register theirs (:func:`register`) with their own line types; a journal none claims is
#: the runner's (``run``, ``serve``).
Detect = Callable[["Journaled"], bool]
Rebuild = Callable[["Journaled"], list[Run]]
RECOVERERS: list[tuple[Detect, Rebuild]] = []
#: The lines a knob sweep journals (:mod:`bench.power.knobs.guard`), whatever the front end.
KNOB_KINDS = ("knob", "knob_set", "knob_restored", "knob_restore_failed")
#: The line a sweep journals as each point is set: ``{"type": "sweep-point", "index": k, "setting": {...}}``.
POINT_KIND = "sweep-point"
#: Line types front ends registered: read as plain objects, for the front end to type.
KINDS: set[str] = {*KNOB_KINDS, POINT_KIND}
#: Why a run without a record in the journal is rebuilt, when nothing was damaged: it was in progress.
KILLED = "killed before it ended (recovered from its journal)"
#: What a rebuilt run cannot have: the journal holds the measurements, not these.
NOT_JOURNALED = "its workload metrics, ceiling and contention are not in the journal"


def register(detect: Detect, rebuild: Rebuild, kinds: tuple[str, ...] = ()) -> None:
    """Make ``recover`` rebuild the journals ``detect`` claims with ``rebuild``; ``kinds``: its own line types."""
    RECOVERERS.append((detect, rebuild))
    KINDS.update(kinds)


#: What a front end does once the result file's path is known, for the journals ``detect`` claims:
#: ``finish(journal, document, out, replace)`` writes the files the result names beside ``out`` (a shard's
#: samples file; ``replace``: one there may be replaced) and returns the document to write there.
Finish = Callable[["Journaled", Document, Path, bool], Document]
FINISHERS: list[tuple[Detect, Finish]] = []


def on_write(detect: Detect, finish: Finish, kinds: tuple[str, ...] = ()) -> None:
    """Make ``recover`` call ``finish`` for the journals ``detect`` claims, with the result's path; ``kinds``: line
    types of its own."""
    FINISHERS.append((detect, finish))
    KINDS.update(kinds)


@dataclass
class Segment:
    """A run that started: its ``run-start`` line, its windows, and its record when it ended."""

    at: int
    no: int
    tag: str
    head: RunHead
    windows: dict[int, Window] = field(default_factory=dict)
    run: Run | None = None
    end: int = 0


@dataclass
class Journaled:
    """What a journal holds: its good lines in order, typed, and the damage found on the way."""

    document: Document
    meters: list[MeterFigure]
    lines: list[Line]
    damage: list[Damage]
    checked: bool = True
    header: bool = True
    total_bytes: int = 0
    total_lines: int = 0
    #: Run records read intact, in order.
    runs: list[Run] = field(default_factory=list)
    #: Per meter: the lines' indices and readings, in time order (readings out of time order are damage).
    reading_at: dict[str, list[int]] = field(default_factory=dict)
    readings: dict[str, list[Reading]] = field(default_factory=dict)
    gaps: dict[str, list[tuple[int, Gap]]] = field(default_factory=dict)
    markers: list[tuple[int, MarkerLine]] = field(default_factory=list)
    #: Temperature sources as declared (the first declaration of each name), their readings and gaps by line
    #: index, and the channels each meter read with its power.
    thermal_sources: dict[str, ThermalSourceLine] = field(default_factory=dict)
    thermal_at: dict[str, list[int]] = field(default_factory=dict)
    thermal: dict[str, list[ThermalReading]] = field(default_factory=dict)
    thermal_gaps: dict[str, list[tuple[int, ThermalGap]]] = field(default_factory=dict)
    meter_channels: dict[str, MeterChannels] = field(default_factory=dict)
    _at: dict[int, int] = field(default_factory=dict, repr=False)
    _polled: dict[tuple[int, int | None], ThermalSampler | None] = field(default_factory=dict, repr=False)

    def refuse(self, line: Line, reason: str) -> Damage:
        """A line a front end could not use (its own types): reported like any damaged line."""
        if not self._at:
            self._at.update((x.no, i) for i, x in enumerate(self.lines))
        d = Damage(line.no, reason[:400], line.nbytes, kind=line.kind, at=self._at.get(line.no, 0))
        self.damage.append(d)
        return d

    def of_kind(self, kind: str) -> list[Line]:
        """The good lines of one type, in order."""
        return [x for x in self.lines if x.kind == kind]

    def polled(self, lo: int = 0, hi: int | None = None) -> ThermalSampler | None:
        """The temperature sources the journal declared, holding their readings and gaps of lines ``[lo, hi)``
        (and each source's last reading before ``lo``, which may stand for a window: a held reading), for
        :func:`bench.power.window.thermal.run_thermal` or a front end's own; None when no source was declared.
        The same range is built once."""
        if (lo, hi) not in self._polled:
            sources = [ReplaySource(d.source, d.kind, d.channels, period_s=d.period_s, local=d.local, notes=d.notes)
                       for d in self.thermal_sources.values()]
            readings: dict[str, list[tuple[float, dict[str, float]]]] = {}
            for name, at in self.thermal_at.items():
                a, b = bisect_left(at, lo), bisect_left(at, hi) if hi is not None else len(at)
                got = self.thermal[name][max(a - 1, 0):b]
                readings[name] = [(r.t, r.values) for r in got]
            gaps = {name: [(g.t, g.reason) for i, g in got if lo <= i and (hi is None or i < hi)]
                    for name, got in self.thermal_gaps.items()}
            self._polled[(lo, hi)] = replay_thermal(sources, readings, gaps)
        return self._polled[(lo, hi)]


@dataclass
class Recovery:
    """A recovered document, every damaged line, and how each run came back."""

    document: Document
    damage: list[Damage]
    checked: bool
    total_bytes: int
    total_lines: int
    #: Per run of the document: ``recorded`` (exactly as the journal held it), ``rebuilt``, ``in progress``
    #: (rebuilt: it was being measured when the journal stopped) or ``lost`` (a record without its windows).
    outcomes: list[str] = field(default_factory=list)
    #: Runs of which nothing identifying survived (not in the document).
    runs_lost: int = 0
    #: The journal's knob lines in order (plain objects): what ``recover`` restores from.
    knob_lines: list[dict[str, object]] = field(default_factory=list)
    #: The front ends' last word once the file's path is known (:func:`on_write`), bound to the journal.
    finishers: list[Callable[[Document, Path, bool], Document]] = field(default_factory=list)

    def document_at(self, out: Path, replace: bool = False) -> Document:
        """The document to write at ``out``, once every front end that claims the journal has written the files it
        names beside ``out`` (a shard's samples); ``replace``: such a file there may be replaced."""
        doc = self.document
        for finish in self.finishers:
            doc = finish(doc, out, replace)
        return doc

    @property
    def clean(self) -> bool:
        """Nothing damaged, nothing lost (a last line cut short by the crash was never complete)."""
        return all(d.cut for d in self.damage)

    @property
    def lost_bytes(self) -> int:
        """Bytes of the lines whose content is not in the result."""
        return sum(d.nbytes for d in self.damage if d.lost)

    @property
    def lost_lines(self) -> int:
        """Lines of the file whose content is not in the result."""
        return sum(d.lines for d in self.damage if d.lost and d.no)

    @property
    def missing_lines(self) -> int:
        """Lines missing from the file (by their sequence numbers)."""
        return sum(d.lines for d in self.damage if d.lost and not d.no)


# --- order and meaning ------------------------------------------------------------------------------------

def _in_order(read: FileRead) -> list[Line]:
    """The good lines in the order they were written (by sequence number where there are checksums);
    repeated, conflicting, moved and missing lines join ``read.damage``, each placed among the lines (``at``)."""
    if not read.checked:
        nos = [x.no for x in read.lines]
        for d in read.damage:
            d.at = bisect_left(nos, d.no)
        return read.lines
    by_n: dict[int, Line] = {}
    placed: list[tuple[Damage, int]] = []  # damage found by sequence number, and the number it sits at
    top = -1
    for line in read.lines:
        assert line.n is not None
        first = by_n.get(line.n)
        if first is not None:
            same = first.crc == line.crc
            d = Damage(line.no, f"repeats line {first.no}" if same else
                       f"has the sequence number of line {first.no} but other content: line {first.no} is kept",
                       line.nbytes, lost=not same, kind=line.kind)
            placed.append((d, line.n + 1))
            continue
        if line.n < top:
            placed.append((Damage(line.no, f"out of order (written as line {line.n + 1}, after the line written "
                                           f"as line {top + 1}): put back in its place", 0, lost=False,
                                  kind=line.kind), line.n))
        by_n[line.n] = line
        top = max(top, line.n)
    ordered = [by_n[n] for n in sorted(by_n)]
    ns = sorted(by_n)
    missing = set(range(top + 1)) - set(by_n)
    # a damaged line sits after the good line before it in the file: it is the next number, if that is missing
    file_nos = [x.no for x in read.lines]
    after: dict[int, int] = {}
    for d in sorted(read.damage, key=lambda d: d.no):
        k = bisect_left(file_nos, d.no)
        prev = read.lines[k - 1].n if k else -1
        assert prev is not None
        guess = after.get(prev, prev) + 1
        after[prev] = guess
        missing.discard(guess)
        d.at = bisect_left(ns, guess)
    for d, n in placed:
        d.at = bisect_left(ns, n)
        read.damage.append(d)
    for a, b in _ranges(sorted(missing)):
        count = b - a + 1
        before = ordered[bisect_left(ns, a) - 1].no if bisect_left(ns, a) else 0
        which = f"line {a + 1}" if a == b else f"lines {a + 1}-{b + 1}"
        where = f"after line {before}" if before else "at the start"
        read.damage.append(Damage(0, f"{count} line(s) missing from the journal (written as {which}, {where}): "
                                     "deleted, or lost with a damaged line", 0, lines=count,
                                  at=bisect_left(ns, a)))
    return ordered


def _ranges(values: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for v in values:
        if out and out[-1][1] == v - 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def _in_time(ts: list[float], strict: bool) -> list[bool]:
    """Which of ``ts`` to keep: the longest run of them in time order (the fewest dropped)."""
    if all(a < b if strict else a <= b for a, b in zip(ts, ts[1:])):
        return [True] * len(ts)
    tails: list[float] = []
    ends: list[int] = []
    prev = [-1] * len(ts)
    for i, t in enumerate(ts):
        k = (bisect_left if strict else bisect_right)(tails, t)
        if k == len(tails):
            tails.append(t)
            ends.append(i)
        else:
            tails[k], ends[k] = t, i
        prev[i] = ends[k - 1] if k else -1
    keep = [False] * len(ts)
    i = ends[-1] if ends else -1
    while i >= 0:
        keep[i] = True
        i = prev[i]
    return keep


def _header(lines: list[Line], damage: list[Damage]) -> tuple[Document, list[MeterFigure], bool]:
    found = [(i, x) for i, x in enumerate(lines) if x.kind == "header"]
    for i, extra in found[1:]:
        damage.append(Damage(extra.no, "a second header (ignored)", extra.nbytes, lost=False, kind="header", at=i))
    if found:
        head: Header = found[0][1].value
        return head.document.model_copy(update={"runs": []}), head.meters, True
    # the meters' provenance is in every intact run record: rebuilt runs get their power from it
    meters: dict[str, MeterFigure] = {}
    for run in (x.value for x in lines if x.kind == "run"):
        for m in run.power.meters:
            meters.setdefault(m.name, m)
    damage.append(Damage(0, "no intact header line: the file's id, system and settings are lost (it gets a new id); "
                            + (f"the meters are taken from the run records ({', '.join(meters)})" if meters
                               else "no meter is known, so rebuilt runs have no power figures"), 0, lines=0))
    return new_document(System()), list(meters.values()), False


def journaled(read: FileRead) -> Journaled:
    """A journal's lines in order and typed, its header, readings, gaps and markers, with their damage."""
    lines = _in_order(read)
    damage = read.damage
    document, meters, has_header = _header(lines, damage)
    j = Journaled(document, meters, lines, damage, read.checked, has_header, read.total_bytes, read.total_lines)
    by_meter: dict[str, list[tuple[int, Reading]]] = {}
    for i, line in enumerate(lines):
        if line.kind == "reading":
            v: MeterReading = line.value
            by_meter.setdefault(v.meter, []).append((i, v.reading))
        elif line.kind == "gap":
            g: MeterGap = line.value
            j.gaps.setdefault(g.meter, []).append((i, g.gap))
        elif line.kind == "marker":
            j.markers.append((i, line.value))
        elif line.kind == "run":
            j.runs.append(line.value)
        elif line.kind in ("thermal-source", "meter-channels", "thermal", "thermal-gap"):
            _thermal_line(j, i, line)
    for meter, got in by_meter.items():
        keep = _in_time([r.t for _, r in got], strict=True)
        for (i, r), k in zip(got, keep):
            if not k:
                damage.append(Damage(lines[i].no, f"a reading of {meter} out of time order (t={r.t:.6g}): not used",
                                     lines[i].nbytes, kind="reading", at=i))
        j.reading_at[meter] = [i for (i, _), k in zip(got, keep) if k]
        j.readings[meter] = [r for (_, r), k in zip(got, keep) if k]
    keep = _in_time([m.t for _, m in j.markers], strict=False)
    for (i, m), k in zip(j.markers, keep):
        if not k:
            damage.append(Damage(lines[i].no, f"marker {m.phase} out of time order (t={m.t:.6g}): not used",
                                 lines[i].nbytes, kind="marker", at=i))
    j.markers = [x for x, k in zip(j.markers, keep) if k]
    return j


def _thermal_line(j: Journaled, i: int, line: Line) -> None:
    """One temperature line into ``j``: a declaration (a second, different one of the same name is refused),
    a reading or gap of a declared source, in time order (any other is refused)."""
    v = line.value
    if isinstance(v, (ThermalSourceLine, MeterChannels)):
        name = v.source if isinstance(v, ThermalSourceLine) else v.meter
        known: dict[str, Any] = j.thermal_sources if isinstance(v, ThermalSourceLine) else j.meter_channels
        if name in known and known[name] != v:
            j.refuse(line, f"a second, different declaration of {name}'s temperature channels: the first is kept")
        known.setdefault(name, v)
        return
    if v.source not in j.thermal_sources:
        j.refuse(line, f"a {line.kind} line of {v.source}, which no thermal-source line declares before it")
        return
    if isinstance(v, ThermalGap):
        j.thermal_gaps.setdefault(v.source, []).append((i, v))
        return
    got = j.thermal.setdefault(v.source, [])
    if got and v.t <= got[-1].t:
        j.refuse(line, f"a reading of {v.source} out of time order (t={v.t:.6g}): not used")
        return
    got.append(v)
    j.thermal_at.setdefault(v.source, []).append(i)


# --- runs ---------------------------------------------------------------------------------------------------

def _segments(j: Journaled) -> list[Run | Segment]:
    """The runs in order: records that stand alone, and runs that started (with their windows and record)."""
    items: list[Run | Segment] = []
    segments: list[Segment] = []
    current: Segment | None = None
    orphans: list[tuple[int, Line]] = []  # windows of a run whose run-start is not intact

    def lose_orphans() -> None:
        if orphans:
            tags = sorted({o.value.tag for _, o in orphans})
            nos = ", ".join(str(o.no) for _, o in orphans[:8]) + (" ..." if len(orphans) > 8 else "")
            j.damage.append(Damage(orphans[0][1].no, f"{len(orphans)} window(s) of {', '.join(tags)} (lines {nos}) "
                                                     "belong to a run whose run-start line is not intact: that run "
                                                     "is lost", 0, lines=0, at=orphans[0][0]))
            orphans.clear()

    for i, line in enumerate(j.lines):
        if line.kind == "run-start":
            lose_orphans()
            start: RunStart = line.value
            current = Segment(i, line.no, start.tag, start.head)
            segments.append(current)
            items.append(current)
        elif line.kind == "window":
            w: Window = line.value
            seg = segments[-1] if segments and segments[-1].tag == w.tag else None
            if seg is None:
                orphans.append((i, line))
            elif w.index in seg.windows:
                first = seg.windows[w.index]
                same = (first.units, first.duration_s) == (w.units, w.duration_s)
                j.damage.append(Damage(line.no, f"a second window {w.index} of {w.tag}" + (" (the same figures)" if same
                                       else f" with other figures ({w.units:.6g} units in {w.duration_s:.6g} s): "
                                            "the first is kept"), line.nbytes, lost=not same, kind="window", at=i))
            else:
                seg.windows[w.index] = w
        elif line.kind == "run":
            run: Run = line.value
            if current is not None and (run.workload, run.device) == (current.head.workload, current.head.device):
                current.run = run
                current = None
            else:  # a run refused before it started has no run-start; so has one whose run-start was damaged
                orphans.clear()
                items.append(run)
    lose_orphans()
    for k, seg in enumerate(segments):
        seg.end = segments[k + 1].at if k + 1 < len(segments) else len(j.lines)
    return items


def _sampler(j: Journaled, seg: Segment, lo: int) -> Sampler:
    """The sampler of one run: readings and gaps of its lines [lo, end), and its own markers (from its run/start)."""
    tag = seg.tag
    starts = [i for i, m in j.markers if m.phase == f"{tag}/run/start" and lo <= i < seg.at]
    first = starts[-1] if starts else lo
    meters: list[Meter] = [ReplayMeter(f) for f in j.meters]
    for meter in meters:
        declared = j.meter_channels.get(meter.name)
        if declared is not None:
            meter.thermal_channels = list(declared.channels)  # type: ignore[attr-defined]
    settings = j.document.settings
    rate = settings.sample_rate_hz if settings is not None and settings.sample_rate_hz else 10.0
    sampler = Sampler(meters, rate_hz=rate, thermal=j.polled(lo, seg.end))
    bounds: dict[str, tuple[int, int]] = {}
    for name, log in sampler.logs.items():
        at = j.reading_at.get(name, [])
        a, b = bisect_left(at, lo), bisect_left(at, seg.end)
        bounds[name] = (a, b)
        log.readings = j.readings[name][a:b] if name in j.readings else []
        log.gaps = [g for i, g in j.gaps.get(name, []) if lo <= i < seg.end]
    for i, m in j.markers:
        if first <= i < seg.end and m.phase.startswith(f"{tag}/"):
            index = {name: bisect_left(j.reading_at.get(name, []), i, a, b) - a - 1 for name, (a, b) in bounds.items()}
            sampler.markers.append(Marker(m.phase, m.t, index))
    return sampler


def _phases(sampler: Sampler, tag: str, t_ref: float) -> list[Phase]:
    times = {m.phase.removeprefix(f"{tag}/"): m.t for m in sampler.markers if m.phase.startswith(f"{tag}/")}
    out = []
    for name in ("idle", "warmup"):
        if f"{name}/start" in times and f"{name}/end" in times:
            out.append(Phase(name=name, start=round(times[f"{name}/start"] - t_ref, 4),
                             end=round(times[f"{name}/end"] - t_ref, 4)))
    i = 0
    while f"window-{i}" in times and f"window-{i + 1}" in times:
        out.append(Phase(name=f"window-{i}", start=round(times[f"window-{i}"] - t_ref, 4),
                         end=round(times[f"window-{i + 1}"] - t_ref, 4)))
        i += 1
    if "tail/start" in times and "tail/end" in times:
        out.append(Phase(name="tail", start=round(times["tail/start"] - t_ref, 4), end=round(times["tail/end"] - t_ref, 4)))
    return out


def _rebuild(j: Journaled, seg: Segment, lo: int, reason: str) -> tuple[Run, bool]:
    """A run rebuilt from its windows, readings and markers; and whether it had any window to be rebuilt from."""
    head, tag = seg.head, seg.tag
    wins: list[Window] = []
    while len(wins) in seg.windows:  # from window 0, while none is missing
        wins.append(seg.windows[len(wins)])
    if len(wins) < len(seg.windows):
        reason += f"; windows after window {len(wins)} not used (window {len(wins)} is not in the journal)"
    if not wins:
        why = reason if reason == KILLED else f"{reason}; no window of it survived"
        failed = head.failed("interrupted", why)
        return failed.model_copy(update={"metrics": {"recovered": why}}), False
    sampler = _sampler(j, seg, lo)
    names = {m.phase for m in sampler.markers}
    marks = [(f"{tag}/window-{i}", f"{tag}/window-{i + 1}") for i in range(len(wins))]
    power, phases, t_ref = no_power(), [], 0.0
    measured: Sampler | None = None  # the sampler the thermal block is read from, with the windows' markers
    if f"{tag}/run/start" in names and all(a in names and b in names for a, b in marks) and j.meters:
        t_ref = sampler.marker(f"{tag}/run/start").t
        phases = _phases(sampler, tag, t_ref)
        tail = (f"{tag}/tail/start", f"{tag}/tail/end") if {f"{tag}/tail/start", f"{tag}/tail/end"} <= names else None
        power = power_block(sampler, t_ref, marks, (f"{tag}/idle/start", f"{tag}/idle/end"),
                            (f"{tag}/run/start", sampler.markers[-1].phase), tail, device=head.device)
        measured = sampler
    else:
        reason += "; its markers or meters are not in the journal intact, so it has no power figures"
    timing = j.document.settings.timing if j.document.settings else None
    complete = timing is not None and len(wins) >= timing.repeats and f"{tag}/tail/end" in names
    why = reason if reason == KILLED else f"{reason}; rebuilt from its {len(wins)} window(s), readings and markers " \
                                          f"({NOT_JOURNALED})"
    run = measured_run(head, [w.units for w in wins], [w.duration_s for w in wins], power=power, phases=phases,
                       sampler=measured, t_ref=t_ref, windows=marks if measured is not None else (),
                       status="ok" if complete else "interrupted", error=None if complete else why, verified=True,
                       metrics={"recovered": why})
    return with_soak(run, SoakSpec.of(j.document.settings.soak if j.document.settings else None)), True


def _runs(j: Journaled) -> tuple[list[Run], list[str], int]:
    """The runner's runs (``run``, ``serve``): each as recorded, or rebuilt; how each came back; runs lost."""
    items = _segments(j)
    segments = [x for x in items if isinstance(x, Segment)]
    # damage that could have held a record: a line that did not read, a run line, lines missing; by place
    could = sorted((d for d in j.damage if d.lost and not d.cut and d.kind in (None, "run")), key=lambda d: d.at)
    could_at = [d.at for d in could]
    runs: list[Run] = []
    outcomes: list[str] = []
    points = _points(j)
    k = -1
    for item in items:
        if isinstance(item, Run):
            runs.append(item)
            outcomes.append("recorded")
            continue
        seg = item
        k += 1
        if seg.run is not None:
            runs.append(seg.run)
            outcomes.append("recorded")
            continue
        lo = segments[k - 1].at + 1 if k else 0
        hurt = could[bisect_right(could_at, seg.at):bisect_right(could_at, seg.end)]
        last = seg is segments[-1] and items[-1] is seg
        where = ", ".join(str(d.no) if d.no else f"{d.lines} missing" for d in hurt[:8]) + (" ..." if len(hurt) > 8 else "")
        if hurt and last:  # the run in progress, unless its record was on a line that did not read
            reason = f"{KILLED}; or its record was on a damaged line ({where})"
        elif hurt:
            reason = f"its record is not in the journal intact (damaged lines: {where})"
        elif last:
            reason = KILLED
        else:
            j.damage.append(Damage(seg.no, f"the run {seg.tag} started on this line has no record in the journal "
                                           "(its line deleted?)", 0, lines=0, at=seg.at))
            reason = "its record is missing from the journal"
        try:
            run, measured = _rebuild(j, seg, lo, reason)
        except Exception as exc:  # noqa: BLE001 - the one boundary around rebuilding one run: the others go on
            j.damage.append(Damage(seg.no, f"the run {seg.tag} could not be rebuilt ({type(exc).__name__}: {exc})"[:400],
                                   0, lines=0, at=seg.at))
            why = f"{reason}; it could not be rebuilt"
            run, measured = seg.head.failed("interrupted", why).model_copy(update={"metrics": {"recovered": why}}), False
        run = _at_point(run, points, seg.at)
        what = (f"rebuilt as the record of {seg.tag} (started line {seg.no}) from its windows" if measured
                else f"the record of {seg.tag} (started line {seg.no}) has no window to rebuild from: its measurement is lost")
        for d in hurt:
            d.outcome = d.outcome or (f"if it held a record, it was that of {seg.tag}, {what}" if last else what)
        runs.append(run)
        outcomes.append("lost" if not measured and not reason.startswith(KILLED) else outcome(run))
    for d in j.damage:
        if d.kind == "run" and not d.outcome and d.lost:
            d.outcome = "a run record, lost (no run-start and windows of it to rebuild from)"
    return runs, outcomes, sum("that run is lost" in d.reason for d in j.damage)


def _points(j: Journaled) -> tuple[list[int], list[Setting]]:
    """Where each ``sweep-point`` line sits among the lines, and its setting (a line that fails its types is refused)."""
    at: list[int] = []
    settings: list[Setting] = []
    for i, line in enumerate(j.lines):
        if line.kind != POINT_KIND:
            continue
        raw = line.value.get("setting") if isinstance(line.value, dict) else None
        try:
            settings.append(Setting.model_validate(raw))
        except ValidationError as exc:
            j.refuse(line, f"a sweep-point line that fails its types ({first_error(exc)})")
            continue
        at.append(i)
    return at, settings


def _at_point(run: Run, points: tuple[list[int], list[Setting]], where: int) -> Run:
    """A rebuilt run of a sweep with the setting of the point it ran at (the last one set before ``where``)."""
    at, settings = points
    k = bisect_left(at, where)
    return run.model_copy(update={"setting": settings[k - 1]}) if k and run.setting is None else run


def outcome(run: Run) -> str:
    """How a run came back: ``recorded``, ``in progress`` (rebuilt: it was being measured) or ``rebuilt``."""
    why = run.metrics.get("recovered")
    return "recorded" if not why else "in progress" if str(why).startswith(KILLED) else "rebuilt"


def recover(path: str | Path, limits: Limits | None = None) -> Recovery:
    """The result document a journal holds, every damaged line, and how each run came back.

    Raises:
        InvalidResultFile: not one line of the file is a journal line.
        UsageError: the file cannot be read.
    """
    read = read_file(Path(path), limits or Limits(), KINDS)
    if not read.lines:
        why = read.damage[0].reason if read.damage else "it is empty"
        raise InvalidResultFile(str(path), "line 1" if read.damage else "$",
                                f"not a sitebench journal: no line of it can be read ({why})"[:300])
    j = journaled(read)
    runs_lost = 0
    for detect, rebuild in RECOVERERS:
        if detect(j):  # a front end's own journal (miners run: every miner rebuilt from its polls)
            runs = rebuild(j)
            outcomes = [outcome(r) for r in runs]
            break
    else:
        runs, outcomes, runs_lost = _runs(j)
    j.damage.sort(key=lambda d: (d.at, d.no))
    knob_lines = [dict(x.value) for x in j.lines if x.kind in KNOB_KINDS and isinstance(x.value, dict)]
    finishers: list[Callable[[Document, Path, bool], Document]] = [partial(finish, j) for detect, finish in FINISHERS
                                                                   if detect(j)]
    return Recovery(j.document.model_copy(update={"runs": runs}), j.damage, j.checked, j.total_bytes, j.total_lines,
                    outcomes, runs_lost, knob_lines, finishers)


#: The most damaged lines reported one by one; the rest are counted.
MAX_REPORTED = 1000


def report(rec: Recovery, name: str) -> list[str]:
    """One line per damaged line of the journal ``name`` (up to :data:`MAX_REPORTED`), then what was kept and lost."""
    out = []
    for d in rec.damage[:MAX_REPORTED]:
        size = f" ({d.nbytes} bytes)" if d.nbytes else ""
        out.append(f"{name}: " + (f"line {d.no}: " if d.no else "") + f"{d.reason}{size}"
                   + (f": {d.outcome}" if d.outcome else ""))
    if len(rec.damage) > MAX_REPORTED:
        rest = rec.damage[MAX_REPORTED:]
        out.append(f"{name}: and {len(rest)} more problem(s) on lines {min(d.no for d in rest)}-{max(d.no for d in rest)}")
    counts = {k: rec.outcomes.count(k) for k in ("recorded", "rebuilt", "in progress", "lost")}
    runs = (f"runs: {counts['recorded']} as recorded, {counts['rebuilt']} rebuilt from their windows after damage, "
            f"{counts['in progress']} in progress when the journal stopped (rebuilt), "
            f"{counts['lost'] + rec.runs_lost} lost")
    damaged = [d for d in rec.damage if not d.cut]
    if not damaged:
        head = "nothing lost"
    else:
        missing = f", and {rec.missing_lines} line(s) missing from the file" if rec.missing_lines else ""
        head = (f"DAMAGED: {len(damaged)} problem(s); lost {rec.lost_lines} line(s) of the file "
                f"({rec.lost_bytes} of {rec.total_bytes} bytes){missing}")
    cut = [d for d in rec.damage if d.cut]
    tail = f"; the last line ({cut[0].nbytes} bytes) was cut short by the crash, never complete" if cut else ""
    checks = ("checked: every line's checksum and sequence number" if rec.checked else
              "unchecked: the journal has no checksums (written before they were added), so damage shows only where a "
              "line does not parse or fails its types")
    kept = rec.total_lines - rec.lost_lines - len(cut)
    out.append(f"{name}: {head}{tail}; kept {kept} of {rec.total_lines} lines; {runs}; {checks}")
    return out


def default_out(journal: Path) -> Path:
    """The result file the journal was for (``X.json.journal.jsonl`` -> ``X.json``), or ``X.recovered.json``
    beside it when that file exists already."""
    name = journal.name.removesuffix(SUFFIX) if journal.name.endswith(SUFFIX) else journal.name + ".json"
    target = journal.with_name(name)
    n = 1
    while target.exists():  # an existing file is never overwritten
        target = journal.with_name(f"{name.removesuffix('.json')}.recovered{'' if n == 1 else f'-{n}'}.json")
        n += 1
    return target

