"""A shard's result checked against its Parquet samples: every miner's figures recomputed from its polls.

A shard (``miners run --shard``) leaves its runs' series to the samples file its ``shard`` block names
(:mod:`bench.record.samples`). Validating it:

1. the file beside the result must be the one named: SHA-256 and row count (a signature over the result
   covers the samples through them);
2. every check that needs no series runs on the result as it is;
3. the runs, a chunk of :data:`CHUNK` at a time, get their series back from the samples, rebuilt the
   way the power layer built them (each meter's readings through :func:`bench.power.window.energy.window`
   between the miner's first and last sample: the firmware's power figure from each poll, the nameplate
   model's energy from each poll's hash counter, the outlet's readings), and the checks that read series
   (:data:`SERIES_CHECKS`) run on them; then each miner's figures are recomputed from its polls
   (check ``parquet``): each window's hashes and seconds from the counter at the polls that bound it, each
   meter's energy over the windows and each window's energy, no more polls or failed polls than the samples
   hold, the fewest chips present and the hottest board or chip over the windows.

The samples are read as a stream (one batch at a time, only the columns needed, only the chunk's miners
kept), so memory holds one chunk's samples, not the shard's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure.replay import ClockReplayMeter
from bench.power.meter import Reading
from bench.power.sampler import Marker, MeterLog
from bench.power.window import energy
from bench.record import Document, MeterFigure, Run, samples
from bench.record.bounds import MAX_MACHINE_W
from bench.validation.core import FILE_CHECKS, Finding, close, run_checks

#: Runs hydrated at once (each chunk is one pass over the samples file).
CHUNK = 1000
#: The checks that read a run's series: they run on the runs with their series rebuilt from the samples.
SERIES_CHECKS = frozenset({"energy-trace", "markers", "timestamps", "power-derivation", "peaks"})
#: Phase times are rounded to 0.1 ms: a poll within this of a phase's edge is the poll that bounds it.
EDGE_S = 1.5e-4
COLUMNS = ("miner", "kind", "t", "hashes", "power_w", "energy_j", "chips", "board_temp_c", "board_chip_temp_c")
_RUN_PATH = re.compile(r"^\$\.runs\[(\d+)\]")


@dataclass
class Rows:
    """One miner's samples: ``(t, hashes, power_w, chips, hottest)`` per poll, failed-poll times, outlet readings."""

    polls: list[tuple[float, float | None, float | None, int | None, float | None]] = field(default_factory=list)
    failed: list[float] = field(default_factory=list)
    outlet: list[Reading] = field(default_factory=list)

    @property
    def first(self) -> float:
        return min([p[0] for p in self.polls[:1]] + self.failed[:1])

    @property
    def last(self) -> float:
        return max([p[0] for p in self.polls[-1:]] + self.failed[-1:])


def address(run: Run) -> str | None:
    """The miner's ``host:port`` (the samples' ``miner``), from its hardware details."""
    d = run.hardware.details if run.hardware is not None else {}
    host, port = d.get("host"), d.get("port")
    return f"{host}:{port}" if isinstance(host, str) and isinstance(port, int) else None


def _hottest(boards: list[Any] | None, chips: list[Any] | None) -> float | None:
    temps = [float(v) for v in (boards or []) + (chips or []) if v is not None]
    return max(temps) if temps else None


def read_rows(path: Path, wanted: set[str]) -> dict[str, Rows]:
    """The samples of the miners ``wanted``, streamed from ``path`` one batch at a time."""
    pa, _ = samples.arrow()  # first: without pyarrow, one line naming the extra
    import pyarrow.compute as pc
    out: dict[str, Rows] = {a: Rows() for a in wanted}
    keys = pa.array(sorted(wanted), type=pa.string())
    for batch in samples.batches(path, COLUMNS):
        miners = batch.column("miner").dictionary_decode() if pa.types.is_dictionary(batch.column("miner").type) \
            else batch.column("miner")
        mask = pc.is_in(miners, value_set=keys)
        if not pc.any(mask).as_py():
            continue
        kept = batch.filter(mask)
        cols = {name: kept.column(name).to_pylist() for name in COLUMNS}
        for i, miner in enumerate(cols["miner"]):
            rows, kind, t = out[miner], cols["kind"][i], cols["t"][i]
            if kind == "poll":
                rows.polls.append((t, cols["hashes"][i], cols["power_w"][i], cols["chips"][i],
                                   _hottest(cols["board_temp_c"][i], cols["board_chip_temp_c"][i])))
            elif kind == "failed":
                rows.failed.append(t)
            elif kind == "outlet":
                rows.outlet.append(Reading(t=t, power_w=cols["power_w"][i], energy_j=cols["energy_j"][i]))
    return out


def _jpt(run: Run) -> float | None:
    w, ths = run.metrics.get("nameplate_w"), run.metrics.get("nameplate_ths")
    ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in (w, ths))
    return w / ths if ok else None  # type: ignore[operator]


def _edge(polls: list[tuple[float, float | None, float | None, int | None, float | None]], at: float,
          t_ref: float) -> tuple[float, float | None] | None:
    """The poll whose time is the phase edge ``at`` (seconds from ``t_ref``): its ``(t, hashes)``."""
    hit = next((p for p in polls if abs(round(p[0] - t_ref, 4) - at) <= EDGE_S), None)
    return (hit[0], hit[1]) if hit is not None else None


def readings(meter: MeterFigure, run: Run, rows: Rows, span: tuple[float, float] | None) -> list[Reading] | None:
    """The readings ``meter`` of ``run`` had, rebuilt from the samples (None: a meter they do not hold)."""
    if meter.kind == "miner-api":
        if meter.method != "firmware_estimate":
            return None
        return [Reading(t=t, power_w=w) for t, _, w, _, _ in rows.polls if w is not None]
    if meter.kind == "nameplate":
        jpt = _jpt(run)
        if jpt is None or span is None:
            return None
        return [Reading(t=t, energy_j=jpt * h / 1e12) for t, h, _, _, _ in rows.polls
                if h is not None and span[0] <= t <= span[1]]
    return sorted(rows.outlet, key=lambda r: r.t)


def _log(meter: MeterFigure, got: list[Reading]) -> MeterLog:
    log = MeterLog(ClockReplayMeter(meter))
    log.readings = got
    return log


def _sum_traces(traces: list[list[list[float]]]) -> list[list[float]]:
    """The primary meters' summed trace, on the first one's times (as :mod:`bench.power.window.block` sums them)."""
    traces = [t for t in traces if t]
    if len(traces) <= 1:
        return traces[0] if traces else []
    grid = np.array([p[0] for p in traces[0]])
    total = np.zeros_like(grid, dtype=float)
    for tr in traces:
        a = np.array(tr, dtype=float)
        total += np.interp(grid, a[:, 0], a[:, 1])
    return [[float(t), float(w)] for t, w in zip(grid, total)]


def hydrate(run: Run, rows: Rows, t_ref: float, base: str) -> tuple[Run, list[Finding]]:
    """``run`` with its series rebuilt from its samples, and what its figures disagree with in them."""
    out: list[Finding] = []
    if not rows.polls and not rows.failed:
        if run.ok or run.throughput.units:
            out.append(Finding("parquet", base, "a measured run without a single sample in the samples file"))
        return run, out
    out += _counts(run, rows, base)
    wins = run.windows
    edges = [(_edge(rows.polls, w.start, t_ref), _edge(rows.polls, w.end, t_ref)) for w in wins]
    missing = [w.name for w, (a, b) in zip(wins, edges) if a is None or b is None]
    if missing:
        out.append(Finding("parquet", f"{base}.phases",
                           f"{', '.join(missing[:3])}: no poll in the samples at the window's edge"))
    span = (edges[0][0][0], edges[-1][1][0]) if wins and not missing else None  # type: ignore[index]
    if span is not None:
        out += _throughput(run, edges, base)  # type: ignore[arg-type]
        out += _hottest_in(run, rows, span, base)
    first, last = Marker("run/start", rows.first, {}), Marker("run/end", rows.last, {})
    meters = []
    for k, m in enumerate(run.power.meters):
        got = readings(m, run, rows, span)
        if got is None:
            meters.append(m)
            continue
        log = _log(m, got)
        meters.append(m.model_copy(update={"trace": energy.window(log, first, last, t_ref).trace}))
        if span is not None and m.energy_j is not None:
            fig = energy.window(log, Marker("w/start", span[0], {}), Marker("w/end", span[1], {}), t_ref)
            if not close(fig.energy_j, m.energy_j, 1e-6):
                out.append(Finding("parquet", f"{base}.power.meters[{k}].energy_j",
                                   f"{m.energy_j:.6g} J but its readings in the samples give {fig.energy_j} J"))
    chosen = [m for m in meters if m.name in {p.name for p in run.power.primary}]
    trace = [p for p in _sum_traces([m.trace for m in chosen]) if p[1] <= MAX_MACHINE_W]
    if span is not None and run.power.window_energy_j and len(run.power.window_energy_j) == len(edges) and chosen:
        logs = [_log(m, readings(m, run, rows, span) or []) for m in chosen]
        for j, ((a, _), (b, _)) in enumerate(edges):  # type: ignore[misc]
            parts = [energy.window_energy(log, Marker("a", a, {}), Marker("b", b, {})) for log in logs]
            want = sum(p for p in parts if p is not None) if all(p is not None for p in parts) else None
            if not close(run.power.window_energy_j[j], want, 1e-6):
                out.append(Finding("parquet", f"{base}.power.window_energy_j[{j}]",
                                   f"{run.power.window_energy_j[j]:.6g} J but the samples give {want} J"))
    power = run.power.model_copy(update={"meters": meters, "trace": trace})
    return run.model_copy(update={"power": power}), out


def _counts(run: Run, rows: Rows, base: str) -> list[Finding]:
    out = []
    for key, held in (("polls", len(rows.polls)), ("polls_failed", len(rows.failed))):
        got = run.metrics.get(key)  # counted when the miner's record was made: polling may have gone on for others
        if isinstance(got, int) and got > held:
            out.append(Finding("parquet", f"{base}.metrics.{key}", f"{got} but the samples hold only {held}"))
    chips = [c for _, _, _, c, _ in rows.polls if c is not None]
    hw = run.hardware
    if hw is not None and hw.chips is not None and chips and hw.chips != min(chips):
        out.append(Finding("parquet", f"{base}.hardware.chips", f"{hw.chips} but the fewest in the samples is {min(chips)}"))
    return out


def _throughput(run: Run, edges: list[tuple[tuple[float, float | None], tuple[float, float | None]]],
                base: str) -> list[Finding]:
    out = []
    t = run.throughput
    if len(t.units) != len(edges):
        return [Finding("parquet", f"{base}.throughput.units", f"{len(t.units)} windows but {len(edges)} window phases")]
    for j, ((ta, ha), (tb, hb)) in enumerate(edges):
        if ha is None or hb is None:
            out.append(Finding("parquet", f"{base}.throughput.units[{j}]", "no hash counter at the window's edge"))
            continue
        if not close(t.units[j], hb - ha, 1e-9):
            out.append(Finding("parquet", f"{base}.throughput.units[{j}]",
                                f"{t.units[j]:.9g} H but the counter in the samples gives {hb - ha:.9g} H"))
        if not close(t.durations_s[j], tb - ta, 1e-9):
            out.append(Finding("parquet", f"{base}.throughput.durations_s[{j}]",
                                f"{t.durations_s[j]:.9g} s but the polls in the samples are {tb - ta:.9g} s apart"))
    return out


def _hottest_in(run: Run, rows: Rows, span: tuple[float, float], base: str) -> list[Finding]:
    temps = [h for t, _, _, _, h in rows.polls if h is not None and span[0] <= t <= span[1]]
    got = run.metrics.get("temp_max_c")
    if isinstance(got, (int, float)) and temps and not close(float(got), max(temps), 1e-9):
        return [Finding("parquet", f"{base}.metrics.temp_max_c",
                        f"{got} degrees C but the hottest board or chip in the samples' windows is {max(temps)}")]
    return []


def _shifted(findings: list[Finding], offset: int) -> list[Finding]:
    """Findings of a chunk document with their ``$.runs[i]`` paths as in the whole document."""
    def shift(path: str) -> str:
        return _RUN_PATH.sub(lambda m: f"$.runs[{int(m.group(1)) + offset}]", path, count=1)
    return [Finding(f.check, shift(f.path), f.message, f.level) for f in findings]


def check_shard(doc: Document, path: str) -> list[Finding] | None:
    """Every finding of a shard's result and its samples (None: ``doc`` is not a shard)."""
    if doc.shard is None:
        return None
    ref = doc.shard.samples
    out = run_checks(doc, skip=SERIES_CHECKS)
    where = Path(path).parent / ref.file
    try:
        why = samples.check(where, ref.sha256, ref.rows)
    except OSError as exc:
        why = f"{ref.file}: cannot read ({exc.strerror or exc})"
    if why is not None:
        return [*out, Finding("parquet", "$.shard.samples", why)]
    t_ref = doc.shard.t_ref
    for i0 in range(0, len(doc.runs), CHUNK):
        chunk = doc.runs[i0:i0 + CHUNK]
        wanted = {a for r in chunk if (a := address(r)) is not None}
        try:
            rows = read_rows(where, wanted) if wanted else {}
        except (OSError, ValueError, samples.arrow()[0].ArrowException) as exc:  # a damaged file
            return [*out, Finding("parquet", "$.shard.samples", f"{ref.file}: unreadable ({str(exc)[:200]})")]
        hydrated = []
        for j, run in enumerate(chunk):
            a = address(run)
            if a is None:
                hydrated.append(run)
                continue
            run2, found = hydrate(run, rows.get(a, Rows()), t_ref, f"$.runs[{i0 + j}]")
            hydrated.append(run2)
            out += found
        out += _shifted(run_checks(doc.model_copy(update={"runs": hydrated}), only=SERIES_CHECKS), i0)
    return out


FILE_CHECKS.append(check_shard)
