"""``sitebench merge``: a fleet run's shards joined into one fleet result, in memory bounded by one shard.

Shards are taken one at a time, in the order given. Each must be a shard result (its ``shard`` block)
that validates, samples included (:func:`bench.validation.validate_file`: the Parquet file's SHA-256 and
rows, every miner's figures recomputed from its polls); a signed one must verify against the trusted keys.
All must carry the same run id, shard count, host list (its fingerprint), window grid and poll period,
and no shard number twice (nor one outside the count). Every window of every miner must be on the grid:
window ``k`` of a miner belongs to the ``k``-th fleet window after its first's, and starts within half a
window after that one's boundary (a multiple of the window length in UTC), else the shard is refused; a
shard's windows start at the first poll at or after each boundary (:func:`bench.miners.measure.window.cut`),
so one later than a poll period and :data:`ALIGN_SLACK_S` (polls missed at the boundary, a clock stepped)
is counted and noted, and the latest start is the fleet's ``lag_s``. A refusal is one line (exit 2) and nothing is written.

From each shard only sums and bounded histograms stay in memory (per model, per fleet window:
:class:`~bench.miners.fleet.distribution.LogHistogram`), and one line per miner goes to a temporary file
sorted by miner. When every shard has been read, the sorted files are merged as a stream
(:func:`heapq.merge`): a miner in two shards is refused, and the outliers are flagged against their
model's median and MAD (``k`` x MAD below it in TH/s or above it in J/TH, and at least
``min_rel_gap`` of it, as ``qualify`` judges outliers). The fleet result
(:class:`bench.record.shards.MinersFleet`) holds the totals, per model the sums over its windows and the
distributions, and one run per model: its average miner (:func:`bench.record.shards.average_miner`), which
``size``, ``plan``, ``report``, ``qualify`` and ``leaderboard`` read like any run. Missing shards are named
and the fleet is marked incomplete.
"""

from __future__ import annotations

import heapq
import math
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.errors import CheckFailed, UsageError
from bench.measure.runrecord import RunHead, measured_run
from bench.miners.fleet.distribution import LogHistogram
from bench.qualify.outliers import K_MAD, MIN_REL_GAP
from bench.record import (
    Document,
    Hardware,
    MeterFigure,
    PowerBlock,
    Quality,
    Run,
    System,
    new_document,
    read_text,
    write_result,
)
from bench.record.miners import figures, is_miner
from bench.record.samples import sha256
from bench.record.shards import (
    Member,
    MinersFleet,
    ModelGroup,
    Outlier,
    ShardInfo,
    Slot,
    Totals,
    average_miner,
)
from bench.sizing.miners import RANK, usable
from bench.validation import errors, validate_file
from bench.validation.shard import paused_gc
from bench.validation.signing import verify_document

#: A window is on time when it starts within a poll period and this after its grid boundary (latency; the
#: slew between the poller's monotonic clock, which the windows' times count on, and UTC since the run began).
ALIGN_SLACK_S = 1.0
#: Outliers listed in the result (all are counted).
MAX_LISTED = 1000


@dataclass
class Group:
    """One model's sums and histograms so far."""

    make: str
    model: str
    miners: int = 0
    measured: int = 0
    verified: int = 0
    usable: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    hashrate_hs: float = 0.0
    power_w: float = 0.0
    slots: dict[int, list[float]] = field(default_factory=dict)
    ths: LogHistogram = field(default_factory=LogHistogram)
    jpth: LogHistogram = field(default_factory=LogHistogram)
    temp: LogHistogram = field(default_factory=LogHistogram)
    missing: Counter[str] = field(default_factory=Counter)
    weakest: Run | None = None
    level: int = 3

    def take(self, run: Run, slot0: int | None) -> None:
        """Count one miner's run (``slot0``: the fleet window its first window is in)."""
        self.miners += 1
        if not run.ok:
            return
        self.measured += 1
        self.verified += run.verified
        self.sources[str(run.metrics.get("power_source", "none"))] += 1
        f = figures(run)
        self.hashrate_hs += run.throughput.rate or 0.0
        self.power_w += run.power.avg_w or 0.0
        if f.ths:
            self.ths.add(f.ths)
        if f.j_per_th:
            self.jpth.add(f.j_per_th)
        if f.temp_max_c is not None:
            self.temp.add(f.temp_max_c)
        if f.chips_missing is not None:
            self.missing[str(f.chips_missing)] += 1
        if not usable(run) or slot0 is None or len(run.power.window_energy_j) != len(run.throughput.units):
            return
        self.usable += 1
        for k, (u, d, e) in enumerate(zip(run.throughput.units, run.throughput.durations_s, run.power.window_energy_j)):
            s = self.slots.setdefault(slot0 + k, [0, 0.0, 0.0, 0.0])
            s[0] += 1
            s[1] += u
            s[2] += d
            s[3] += e
        self.level = min(self.level, run.power.quality.level)
        if self.weakest is None or _trust(run) < _trust(self.weakest):
            self.weakest = run

    @property
    def hashes(self) -> float:
        return sum(s[1] for s in self.slots.values())

    @property
    def seconds(self) -> float:
        return sum(s[2] for s in self.slots.values())

    @property
    def joules(self) -> float:
        return sum(s[3] for s in self.slots.values())

    def record(self) -> ModelGroup:
        """The model's part of the fleet result."""
        slots = [Slot(slot=k, miners=int(v[0]), hashes=v[1], seconds=v[2], joules=v[3])
                 for k, v in sorted(self.slots.items())]
        return ModelGroup(make=self.make, model=self.model, miners=self.miners, measured=self.measured,
                          verified=self.verified, usable=self.usable, power_sources=dict(self.sources),
                          hashrate_hs=self.hashrate_hs, power_w=self.power_w, hashes=self.hashes,
                          seconds=self.seconds, joules=self.joules, slots=slots, ths=self.ths.record(),
                          j_per_th=self.jpth.record(), temp_max_c=self.temp.record(),
                          missing_chips=dict(self.missing))


def _trust(run: Run) -> tuple[int, float]:
    p = run.power
    acc = p.primary[0].accuracy if p.primary else None
    return RANK.get(p.scope_class or "modelled", 0), -(acc if acc is not None else 1.0)


@dataclass
class Merged:
    """What merging did: the fleet result, where it went, the shards missing, the notes."""

    doc: Document
    out: Path
    missing: list[int]
    notes: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing


def _first(info: ShardInfo, path: Path, ref: tuple[ShardInfo, Path] | None) -> None:
    """Refuse a shard numbered outside its count, or one that does not belong with the first one."""
    if not info.k < info.n:
        raise UsageError(f"merge: {path} says it is shard {info.k}/{info.n}: K must be 0..{info.n - 1}")
    if ref is None:
        return
    a, where = ref
    for what, x, y in (("run", a.run_id, info.run_id), ("shard count", a.n, info.n),
                       ("host list", a.hosts_sha256, info.hosts_sha256), ("window length", a.window_s, info.window_s),
                       ("poll period", a.period_s, info.period_s)):
        if x != y:
            extra = " (cut from different host lists)" if what == "host list" else ""
            raise UsageError(f"merge: {path} is from another {what} than {where}{extra}: "
                             f"{str(y)[:40]} against {str(x)[:40]}")


def _shard_doc(path: Path, keys: dict[str, Any]) -> Document:
    """The shard's document, once it validates (samples included) and its signature, if any, verifies."""
    if not path.is_file():
        raise UsageError(f"merge: {path}: no such file")
    result = validate_file(path)
    doc = result.doc
    bad = errors(result.findings)
    if doc is not None and doc.shard is None and doc.miners_fleet is None:
        raise UsageError(f"merge: {path} is not a shard's result (no shard block): run it with miners run --shard K/N")
    if doc is None or bad:
        first = bad[0].line(str(path)) if bad else f"{path}: does not validate"
        more = f" (and {len(bad) - 1} more: sitebench validate {path})" if len(bad) > 1 else ""
        raise UsageError(f"merge: shard does not validate: {first}{more}")
    if doc.miners_fleet is not None:
        raise UsageError(f"merge: {path} is a merged fleet, not a shard")
    if doc.signature is not None:
        try:
            verify_document(read_text(path), keys)
        except CheckFailed as exc:
            raise UsageError(f"merge: {path}: {exc}") from None
    return doc


@dataclass
class Alignment:
    """How the windows merged so far sit on the grid: the latest start after its boundary, the late windows."""

    lag_s: float = 0.0
    late: int = 0
    late_miners: int = 0

    def note(self) -> str | None:
        """The fleet's note on its late windows (None: none late)."""
        if not self.late:
            return None
        return (f"{self.late} window(s) of {self.late_miners} miner(s) started more than a poll period (+{ALIGN_SLACK_S:g} s) "
                f"after their grid boundary, the latest {self.lag_s:.3g} s: polls missed at the boundary, or a clock "
                "stepped")


def _slot(info: ShardInfo, run: Run, path: Path, seen: Alignment) -> int | None:
    """The fleet window of ``run``'s first window (None: it has none), every window checked against the grid.

    Window ``k`` belongs to the ``k``-th fleet window after the first's. It is on time when it starts within a poll
    period (plus :data:`ALIGN_SLACK_S`) after that window's boundary, late (counted in ``seen``) when later, and
    refused when it starts before its boundary (by more than the slack) or half a window or more after it: then the
    miner's windows are not on this grid at all.
    """
    wins = run.windows
    if not wins:
        return None
    width = info.window_s
    slot = math.floor((info.wall_ref + wins[0].start + ALIGN_SLACK_S) / width)
    late = 0
    for k, w in enumerate(wins):
        lag = info.wall_ref + w.start - (slot + k) * width
        if not -ALIGN_SLACK_S <= lag < width / 2:
            raise UsageError(f"merge: {path}: {run.device}'s windows are not on the grid: {w.name} starts {lag:+.3g} s "
                             f"from its boundary, a multiple of {width:g} s in UTC (a window must start within half a "
                             "window after it)")
        late += lag > info.period_s + ALIGN_SLACK_S
        seen.lag_s = max(seen.lag_s, lag)
    seen.late += late
    seen.late_miners += late > 0
    return slot


def _rows(runs: list[Run], k: int, groups: list[tuple[str, str]]) -> list[str]:
    """One sorted line per miner: ``device TAB shard TAB group TAB TH/s TAB J/TH``."""
    out = []
    for run in runs:
        f = figures(run) if run.ok else None
        g = groups.index(_group_key(run))
        ths = f"{f.ths!r}" if f is not None and f.ths else ""
        jpth = f"{f.j_per_th!r}" if f is not None and f.j_per_th else ""
        out.append(f"{run.device}\t{k}\t{g}\t{ths}\t{jpth}\n")
    return sorted(out)


def _group_key(run: Run) -> tuple[str, str]:
    hw = run.hardware
    if hw is None or not is_miner(run):
        return ("?", "not identified")
    return (hw.make or "?", hw.model or "?")


def _lines(f: IO[str]) -> Iterator[tuple[str, int, int, float | None, float | None]]:
    for line in f:
        dev, k, g, ths, jpth = line.rstrip("\n").split("\t")
        yield dev, int(k), int(g), float(ths) if ths else None, float(jpth) if jpth else None


def _check_and_flag(files: list[Path], paths: dict[int, Path], stats: list[tuple[float | None, float | None,
                    float | None, float | None]], names: list[tuple[str, str]], k_mad: float,
                    min_rel_gap: float) -> tuple[list[Outlier], int]:
    """Every miner once (refused otherwise); the outliers against their model's median and MAD."""
    listed: list[Outlier] = []
    count = 0
    with ExitStack() as stack:
        streams = [_lines(stack.enter_context(open(p, encoding="utf-8"))) for p in files]
        last: tuple[str, int] | None = None
        for dev, k, g, ths, jpth in heapq.merge(*streams):
            if last is not None and last[0] == dev:
                where = f"twice in {paths[k]}" if last[1] == k else f"in two shards: {paths[last[1]]} and {paths[k]}"
                raise UsageError(f"merge: {dev} is {where} (overlapping hosts)")
            last = (dev, k)
            med_t, mad_t, med_j, mad_j = stats[g]
            found: list[tuple[str, float, float, float]] = []
            if ths is not None and med_t is not None and mad_t is not None:
                gap = med_t - ths
                if gap > k_mad * mad_t and gap > min_rel_gap * med_t:
                    found.append(("ths", ths, med_t, mad_t))
            if jpth is not None and med_j is not None and mad_j is not None:
                gap = jpth - med_j
                if gap > k_mad * mad_j and gap > min_rel_gap * med_j:
                    found.append(("j_per_th", jpth, med_j, mad_j))
            for metric, value, med, mad in found:
                count += 1
                if len(listed) < MAX_LISTED:
                    listed.append(Outlier(miner=dev, shard=k, model=f"{names[g][0]} {names[g][1]}"[:200],
                                          metric=metric, value=value, median=med, mad=mad))  # type: ignore[arg-type]
    return listed, count


def _average_run(g: Group, info: ShardInfo) -> Run:
    """The model's average miner over the fleet's windows, or a failed run saying why there is none."""
    hw = Hardware(kind="asic", make=g.make[:200], model=g.model[:200],
                  details={"miners": g.usable, "fleet_miners": g.miners, "fleet_run_id": info.run_id})
    head = RunHead(workload="sha256d", device=f"asic x{g.usable or g.miners}", unit="hash",
                   params={"poll_period_s": info.period_s}, hardware=hw)
    slots = [Slot(slot=k, miners=int(v[0]), hashes=v[1], seconds=v[2], joules=v[3]) for k, v in sorted(g.slots.items())]
    units, durations, energies = average_miner(slots)
    if not units or g.weakest is None:
        return head.failed("failed", f"none of the fleet's {g.miners} {g.make} {g.model} miner(s) can be sized: "
                           f"{g.measured} measured, {g.verified} verified, none with power valid for sizing")
    weak = g.weakest.power
    joules, seconds = sum(energies), sum(durations)
    chosen = weak.primary[0] if weak.primary else None
    meter = MeterFigure(
        name=f"fleet:{g.make} {g.model}"[:200], kind="fleet", scope=weak.scope or "modelled",
        method=chosen.method if chosen else "?", measured=weak.measured, accuracy=chosen.accuracy if chosen else None,
        accuracy_note=(f"the {g.usable} usable miners' own power figures summed over the fleet's windows and divided by "
                       f"the miners per window; the least trusted of them is {chosen.method if chosen else '?'} "
                       f"({weak.scope}); their readings are in the shards' samples files")[:2000],
        update_period_s=info.period_s, energy_j=joules, avg_w=joules / seconds, duration_s=seconds,
        energy_method="sum of the miners' window energies", valid=True)
    sources = ", ".join(f"{n} {s}" for s, n in g.sources.most_common())
    power = PowerBlock(avg_w=joules / seconds, energy_j=joules, window_s=seconds, window_energy_j=energies,
                       scope=weak.scope, scope_class=weak.scope_class, measured=weak.measured, valid_for_sizing=True,
                       quality=Quality(level=g.level, reasons=[f"the lowest level of the {g.usable} usable miners"]),
                       flags=[f"the fleet's average {g.model}: power from {sources}"[:2000]], meters=[meter])
    metrics = {"fleet_miners": g.miners, "usable_miners": g.usable, "measured_miners": g.measured,
               "verified_miners": g.verified, "fleet_windows": len(units)}
    return measured_run(head, units, durations, power=power, verified=True, metrics=metrics)


def merge(paths: list[Path], out: Path, *, keys: dict[str, Any] | None = None, k_mad: float = K_MAD,
          min_rel_gap: float = MIN_REL_GAP) -> Merged:
    """Join the shards at ``paths`` into the fleet result written (atomically) to ``out``.

    Raises:
        UsageError: a shard that does not validate or belong (another run, shard count, host list or grid; a shard
            number twice; a miner in two shards; windows off the grid); nothing is written.
    """
    keys = keys or {}
    if not paths:
        raise UsageError("merge: no shard given")
    groups: dict[tuple[str, str], Group] = {}
    names: list[tuple[str, str]] = []
    members: list[Member] = []
    seen: dict[int, Path] = {}
    ref: tuple[ShardInfo, Path] | None = None
    settings = None
    aligned, failed, bounds = Alignment(), 0, []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix=".sitebench-merge-", dir=out.parent if out.parent.is_dir() else None) as tmp:
        files: list[Path] = []
        for path in paths:
            with paused_gc():
                doc = _shard_doc(path, keys)
            info = doc.shard
            assert info is not None
            _first(info, path, ref)
            if info.k in seen:
                raise UsageError(f"merge: shard {info.k}/{info.n} given twice: {seen[info.k]} and {path}")
            ref = ref or (info, path)
            seen[info.k] = path
            settings = settings or doc.settings
            slots0 = [_slot(info, r, path, aligned) for r in doc.runs]
            for run, slot0 in zip(doc.runs, slots0):
                key = _group_key(run)
                if key not in groups:
                    groups[key] = Group(*key)
                    names.append(key)
                groups[key].take(run, slot0)
                failed += not run.ok
            rows = tmp + f"/shard-{info.k}.tsv"
            with open(rows, "w", encoding="utf-8") as f:
                f.writelines(_rows(doc.runs, info.k, names))
            files.append(Path(rows))
            bound = info.clock.maxerror_s
            bounds.append(None if bound is None else abs(info.clock.offset_s or 0.0) + bound)
            if info.clock.synchronised is False:
                notes.append(f"shard {info.k}: its poller's clock was not synchronised ({'; '.join(info.clock.notes)[:200]})")
            members.append(Member(k=info.k, file=str(path)[:2000], sha256=sha256(path),
                                  samples_sha256=info.samples.sha256, rows=info.samples.rows, miners=len(doc.runs),
                                  wall_ref=info.wall_ref, clock_bound_s=bounds[-1],
                                  clock_synchronised=info.clock.synchronised))
            del doc
        assert ref is not None
        info = ref[0]
        stats = [(g.ths.quantile(0.5), g.ths.mad(), g.jpth.quantile(0.5), g.jpth.mad())
                 for g in (groups[n] for n in names)]
        outliers, count = _check_and_flag(files, seen, stats, names, k_mad, min_rel_gap)
    missing = sorted(set(range(info.n)) - set(seen))
    models = [groups[n] for n in names]
    usable_ = [g for g in models if g.usable]
    hashes, joules = sum(g.hashes for g in usable_), sum(g.joules for g in usable_)
    totals = Totals(miners=sum(g.miners for g in models), measured=sum(g.measured for g in models),
                    verified=sum(g.verified for g in models), usable=sum(g.usable for g in models), failed=failed,
                    hashrate_hs=sum(g.hashrate_hs for g in models), power_w=sum(g.power_w for g in models),
                    j_per_th=joules / hashes * 1e12 if hashes else None,
                    missing_chips_miners=sum(n for g in models for c, n in g.missing.items() if c != "0"),
                    missing_chips=sum(int(c) * n for g in models for c, n in g.missing.items()), outliers=count)
    if aligned.note():
        notes.append(str(aligned.note()))
    if missing:
        notes.append(f"incomplete: missing shard(s) {', '.join(f'{k}/{info.n}' for k in missing)}")
    known = [b for b in bounds if b is not None]
    block = MinersFleet(run_id=info.run_id, shards=info.n, complete=not missing, missing=missing, hosts=info.hosts,
                        hosts_sha256=info.hosts_sha256, window_s=info.window_s, period_s=info.period_s,
                        lag_s=max(aligned.lag_s, 0.0),
                        clock_bound_s=max(known) if len(known) == len(bounds) else None, k_mad=k_mad,
                        min_rel_gap=min_rel_gap, members=sorted(members, key=lambda m: m.k), totals=totals,
                        models=[g.record() for g in models], outliers=outliers, notes=[n[:2000] for n in notes[:100]])
    runs = [_average_run(g, info) for g in models if g.make != "?" or g.usable]
    system = System(note=f"fleet run {info.run_id}: {len(seen)} of {info.n} shard(s) merged, {totals.miners} miner(s)")
    doc = new_document(system, runs, settings=settings).model_copy(update={"miners_fleet": block})
    write_result(out, doc)
    return Merged(doc, out, missing, notes)


def shard_paths(items: list[str]) -> list[Path]:
    """The shard files named (a directory: its ``*.json`` files, sorted)."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.glob("*.json") if q.is_file())
            if not found:
                raise UsageError(f"merge: {p}: no *.json shard result in this directory")
            out += found
        else:
            out.append(p)
    if len(set(map(os.path.realpath, out))) != len(out):
        raise UsageError("merge: a shard file is named twice")
    return out
