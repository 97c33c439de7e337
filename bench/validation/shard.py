"""A shard's result checked against its Parquet samples: every miner's figures recomputed from its polls.

A shard (``miners run --shard``) leaves its runs' series to the samples file its ``shard`` block names
(:mod:`bench.record.samples`). Validating it:

1. the file beside the result must be the one named: SHA-256 and row count (a signature over the result
   covers the samples through them);
2. every check that needs no series runs on the result as it is;
3. the runs, some at a time, get their series back from the samples, rebuilt the way the power layer
   built them (each meter's readings between the miner's first and last sample, through
   :func:`bench.power.window.energy.trace`: the firmware's power figure from each poll, the nameplate
   model's energy from each poll's hash counter, the outlet's readings), and the checks that read series
   (:data:`SERIES_CHECKS`) run on them; then each miner's figures are recomputed from its polls
   (check ``parquet``): each window's hashes and seconds from the counter at the polls that bound it, each
   meter's energy over the windows and each window's energy, no more polls or failed polls than the samples
   hold, the fewest chips present and the hottest board or chip over the windows.

The samples are read as a stream (one batch at a time, only the columns needed, only the miners of the pass
kept, as arrays: :data:`ROWS_PER_PASS` rows of them), and the series rebuilt for :data:`ROWS_PER_CHECK` rows'
worth of runs at a time, so memory holds a bounded part of a shard's samples whatever its size; the file is
read once for a shard of up to a million rows (2,500 miners polled 400 times each; at 10,000, four times: a
pass costs about 0.1 s a million rows, a few per cent of checking their runs).
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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

#: Samples rows read in one pass over the file (kept as arrays, about 70 bytes a row): the runs whose rows
#: these are, at the file's rows per miner, are one pass.
ROWS_PER_PASS = 1_000_000
#: Samples rows whose runs get their series back at once (as Python objects, with the runs' copies and their
#: checks' findings), and at most this many runs.
ROWS_PER_CHECK = 100_000
RUNS_PER_CHECK = 1_000
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


#: The ``kind`` of a samples row, by its code in :class:`Chunk`.
KINDS = ("poll", "failed", "outlet")


def _values(data: np.ndarray, null: np.ndarray) -> list[Any]:
    """``data`` as a list, None where ``null``."""
    return [None if n else v for v, n in zip(data.tolist(), null.tolist())] if null.any() else data.tolist()


class Chunk(Mapping[str, Rows]):
    """The samples of some miners, as arrays in file order (numbers, with a null mask where a column may be null);
    one miner's :class:`Rows` are made when asked for, so Python objects exist for one miner at a time."""

    def __init__(self, keys: list[str], code: np.ndarray, kind: np.ndarray, columns: dict[str, np.ndarray],
                 nulls: dict[str, np.ndarray]) -> None:
        self._keys = {k: i for i, k in enumerate(keys)}
        self._order = np.argsort(code, kind="stable")  # each miner's rows together, in file (time) order
        self._bounds = np.concatenate([[0], np.cumsum(np.bincount(code, minlength=len(keys)))])
        self._kind, self._columns, self._nulls = kind, columns, nulls

    def __getitem__(self, address: str) -> Rows:
        i = self._keys[address]
        at = self._order[int(self._bounds[i]):int(self._bounds[i + 1])]
        kind = self._kind[at]

        def take(name: str, which: np.ndarray) -> list[Any]:
            return _values(self._columns[name][at[which]], self._nulls[name][at[which]])

        poll, failed, outlet = (kind == k for k in range(len(KINDS)))
        rows = Rows(failed=take("t", failed))
        rows.polls = list(zip(take("t", poll), take("hashes", poll), take("power_w", poll),
                              [None if c is None else int(c) for c in take("chips", poll)], take("hottest", poll)))
        rows.outlet = [Reading(t=t, power_w=w, energy_j=e) for t, w, e in
                       zip(take("t", outlet), take("power_w", outlet), take("energy_j", outlet))]
        return rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def address(run: Run) -> str | None:
    """The miner's ``host:port`` (the samples' ``miner``), from its hardware details."""
    d = run.hardware.details if run.hardware is not None else {}
    host, port = d.get("host"), d.get("port")
    return f"{host}:{port}" if isinstance(host, str) and isinstance(port, int) else None


def _hottest(columns: list[Any], n: int) -> np.ndarray:
    """Per row, the largest number in any of the list ``columns`` (nulls skipped; NaN where there is none)."""
    import pyarrow.compute as pc
    top = np.full(n, np.nan)
    for col in columns:
        values = pc.list_flatten(col).to_numpy(zero_copy_only=False).astype(float)
        np.fmax.at(top, pc.list_parent_indices(col).to_numpy(zero_copy_only=False), values)
    return top


def read_rows(path: Path, wanted: set[str]) -> Chunk:
    """The samples of the miners ``wanted``, streamed from ``path`` one batch at a time: of each batch, the rows of
    those miners are kept as arrays (about 60 bytes a row), and each miner's :class:`Rows` are made when asked for."""
    pa, _ = samples.arrow()  # first: without pyarrow, one line naming the extra
    import pyarrow.compute as pc
    keys = sorted(wanted)
    key_set = pa.array(keys, type=pa.string())
    kinds = pa.array(KINDS, type=pa.string())
    parts: dict[str, list[np.ndarray]] = {}

    def keep(name: str, value: np.ndarray) -> None:
        parts.setdefault(name, []).append(value)

    for batch in samples.batches(path, COLUMNS):
        miner = batch.column("miner")
        miner = miner.dictionary_decode() if pa.types.is_dictionary(miner.type) else miner
        code = pc.index_in(miner, value_set=key_set)
        mask = code.is_valid()
        if not pc.any(mask).as_py():
            continue
        kept = batch.filter(mask)
        keep("code", pc.filter(code, mask).to_numpy(zero_copy_only=False).astype(np.int64))
        kind = kept.column("kind")
        kind = kind.dictionary_decode() if pa.types.is_dictionary(kind.type) else kind
        keep("kind", pc.fill_null(pc.index_in(kind, value_set=kinds), -1).to_numpy(zero_copy_only=False))
        for name in ("t", "hashes", "power_w", "energy_j", "chips"):
            col = kept.column(name)
            keep(name, pc.fill_null(col.cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False))
            keep(f"{name}?", col.is_null().to_numpy(zero_copy_only=False))
        hot = _hottest([kept.column("board_temp_c"), kept.column("board_chip_temp_c")], kept.num_rows)
        keep("hottest", np.nan_to_num(hot))
        keep("hottest?", np.isnan(hot))
    numbers = ("t", "hashes", "power_w", "energy_j", "chips", "hottest")
    joined = {name: np.concatenate(parts.get(name) or [np.zeros(0, dtype=bool if name.endswith("?") else float)])
              for name in ("code", "kind", *numbers, *(f"{n}?" for n in numbers))}
    joined["code"], joined["kind"] = joined["code"].astype(np.int64), joined["kind"].astype(np.int64)
    return Chunk(keys, joined["code"], joined["kind"], {n: joined[n] for n in numbers},
                 {n: joined[f"{n}?"] for n in numbers})


def _jpt(run: Run) -> float | None:
    w, ths = run.metrics.get("nameplate_w"), run.metrics.get("nameplate_ths")
    ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in (w, ths))
    return w / ths if ok else None  # type: ignore[operator]


def _edge(polls: list[tuple[float, float | None, float | None, int | None, float | None]], times: list[float],
          at: float, t_ref: float) -> tuple[float, float | None] | None:
    """The poll whose time is the phase edge ``at`` (seconds from ``t_ref``): its ``(t, hashes)``; ``times``: the
    polls' times (in order, as a miner's are in its samples; the polls near ``at`` are the ones looked at)."""
    i = bisect_left(times, t_ref + at - 2 * EDGE_S)
    while i < len(polls) and times[i] <= t_ref + at + 2 * EDGE_S:
        if abs(round(times[i] - t_ref, 4) - at) <= EDGE_S:
            return polls[i][0], polls[i][1]
        i += 1
    return None


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
    times = [p[0] for p in rows.polls]
    edges = [(_edge(rows.polls, times, w.start, t_ref), _edge(rows.polls, times, w.end, t_ref)) for w in wins]
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
    logs: dict[str, MeterLog] = {}
    for k, m in enumerate(run.power.meters):
        got = readings(m, run, rows, span)
        if got is None:
            meters.append(m)
            continue
        log = logs[m.name] = _log(m, got)
        meters.append(m.model_copy(update={"trace": energy.trace(log, first, last, t_ref)}))
        if span is not None and m.energy_j is not None:
            got_j = energy.window_energy(log, Marker("w/start", span[0], {}), Marker("w/end", span[1], {}))
            if not close(got_j, m.energy_j, 1e-6):
                out.append(Finding("parquet", f"{base}.power.meters[{k}].energy_j",
                                   f"{m.energy_j:.6g} J but its readings in the samples give {got_j} J"))
    chosen = [m for m in meters if m.name in {p.name for p in run.power.primary}]
    trace = [p for p in _sum_traces([m.trace for m in chosen]) if p[1] <= MAX_MACHINE_W]
    if span is not None and run.power.window_energy_j and len(run.power.window_energy_j) == len(edges) and chosen:
        logs_ = [logs.get(m.name) or _log(m, []) for m in chosen]
        for j, ((a, _), (b, _)) in enumerate(edges):  # type: ignore[misc]
            parts = [energy.window_energy(log, Marker("a", a, {}), Marker("b", b, {})) for log in logs_]
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
    if doc.shard.k >= doc.shard.n:
        out.append(Finding("shard", "$.shard.k", f"shard {doc.shard.k} of {doc.shard.n}: K must be 0..{doc.shard.n - 1}"))
    where = Path(path).parent / ref.file
    try:
        why = samples.check(where, ref.sha256, ref.rows)
    except OSError as exc:
        why = f"{ref.file}: cannot read ({exc.strerror or exc})"
    if why is not None:
        return [*out, Finding("parquet", "$.shard.samples", why)]
    t_ref = doc.shard.t_ref
    per_pass, per_check = _per(doc, ref.rows, ROWS_PER_PASS), min(_per(doc, ref.rows, ROWS_PER_CHECK), RUNS_PER_CHECK)
    with paused_gc():
        for p0 in range(0, len(doc.runs), per_pass):
            part = doc.runs[p0:p0 + per_pass]
            wanted = {a for r in part if (a := address(r)) is not None}
            try:
                rows = read_rows(where, wanted)
            except (OSError, ValueError, samples.arrow()[0].ArrowException) as exc:  # a damaged file
                return [*out, Finding("parquet", "$.shard.samples", f"{ref.file}: unreadable ({str(exc)[:200]})")]
            for i0 in range(p0, p0 + len(part), per_check):
                out += _hydrated_checks(doc, doc.runs[i0:min(i0 + per_check, p0 + len(part))], i0, rows, t_ref)
    return out


def _per(doc: Document, rows: int, budget: int) -> int:
    """Runs to take at once so that their samples are about ``budget`` rows (the file's rows shared evenly)."""
    return max(1, min(len(doc.runs), budget * len(doc.runs) // max(rows, 1)))


def _hydrated_checks(doc: Document, runs: list[Run], i0: int, rows: Mapping[str, Rows], t_ref: float) -> list[Finding]:
    """The findings of ``runs`` (from ``doc.runs[i0]``) with their series rebuilt from ``rows``."""
    out: list[Finding] = []
    hydrated = []
    for j, run in enumerate(runs):
        a = address(run)
        if a is None:
            hydrated.append(run)
            continue
        run2, found = hydrate(run, rows.get(a) or Rows(), t_ref, f"$.runs[{i0 + j}]")
        hydrated.append(run2)
        out += found
    return out + _shifted(run_checks(doc.model_copy(update={"runs": hydrated}), only=SERIES_CHECKS), i0)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off for a while: what is made here (runs, readings, traces) holds no
    cycles and is freed as it goes, but every collection would walk a whole shard's document (half the time
    of validating one, measured on 10,000 miners)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


FILE_CHECKS.append(check_shard)
