"""One shard of a fleet run, from ``--shard`` to its result: the miners it polls, its samples, its JSON.

:func:`prepare` decides before anything is polled: which shard this process is (``--shard``, a Slurm job
array, a Kubernetes Indexed Job), its slice of the host list, the run id it shares with the other shards,
and its poller's clock state. :class:`ShardRun` is the session's :class:`~bench.miners.record.sink.ShardSink`:
each sample goes to the Parquet file beside the result as it comes (:mod:`bench.miners.fleet.parquet`),
and at the end the result keeps each miner's run without its series (the power traces and the telemetry,
which the samples hold) and gains the ``shard`` block (:class:`bench.record.shards.ShardInfo`): the
samples file's name, SHA-256 and row count, the shard and run id, the window grid and the clock. A
signature over the result (``sitebench sign``) therefore covers the samples.

A run without ``--shard`` (and outside a job array) keeps today's single JSON file, unless ``--samples
parquet`` asks for the Parquet file (then it is shard 0/1 of a run of its own).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.miners.fleet import runid
from bench.miners.fleet.parquet import SampleSink
from bench.miners.fleet.shard import Shard, Slice, choose, select
from bench.miners.protocol.model import Sample
from bench.miners.record.runrecord import OutletLog
from bench.record import Document, Run, check_writable
from bench.record.bounds import MAX_RUNS
from bench.record.samples import arrow, sha256
from bench.record.shards import Clock, SamplesRef, ShardInfo

SAMPLES = ("auto", "json", "parquet")
#: The journal line a shard's run writes beside its ``miners`` line (:meth:`ShardRun.journal_line`).
SHARD_LINE = "shard"
#: Miners per shard the docs advise (one poller process's worth, about 45 MB of result file).
MAX_MINERS_PER_SHARD = 10_000


def samples_path(out: Path) -> Path:
    """The Parquet file beside result ``out``: the same name with ``.parquet``."""
    return out.with_suffix(".parquet")


def default_out(run_id: str, shard: Shard) -> Path:
    """``results/miners/<run id>-shard-<K>-of-<N>.json``."""
    return Path("results") / "miners" / f"{run_id}-shard-{shard.k}-of-{shard.n}.json"


def strip(run: Run) -> Run:
    """``run`` without what a shard's samples file holds: its power traces, its telemetry series and its per-window
    temperatures (``thermal``; every poll's board and chip temperatures are in the samples, the hottest in the
    run's metrics and telemetry summary). So a shard of 10,000 miners stays within a result file's 64 MiB."""
    p = run.power
    meters = [m.model_copy(update={"trace": [], "telemetry": {}}) for m in p.meters]
    return run.model_copy(update={"power": p.model_copy(update={"trace": [], "meters": meters}), "thermal": None})


def samples_ref(path: Path, rows: int) -> SamplesRef:
    """The result's reference to the samples file at ``path`` (closed, in place) of ``rows`` rows."""
    return SamplesRef(file=path.name, sha256=sha256(path), rows=rows, bytes=path.stat().st_size)


def shard_result(doc: Document, info: ShardInfo) -> Document:
    """``doc`` as a shard's result: its runs without their series (:func:`strip`), the ``shard`` block."""
    return doc.model_copy(update={"runs": [strip(r) for r in doc.runs], "shard": info})


def clock_record(state: runid.ClockState) -> Clock:
    """The poller's clock state as the record keeps it."""
    return Clock(synchronised=state.synchronised, offset_s=state.offset_s, maxerror_s=state.maxerror_s,
                 esterror_s=state.esterror_s, sources=state.sources[:20], notes=[n[:2000] for n in state.notes[:20]])


@dataclass
class ShardRun:
    """A shard being measured: the session's sink; :meth:`finish` makes its result."""

    shard: Shard
    run_id: str
    run_id_from: str
    part: Slice
    window_s: float
    period_s: float
    clock: runid.ClockState
    out: Path | None = None
    said: list[str] = field(default_factory=list)
    _sink: SampleSink | None = None
    _t_ref: float | None = None
    _wall_ref: float | None = None

    @property
    def specs(self) -> list[str]:
        """This shard's ``miners run`` specs."""
        return self.part.specs

    def start(self, t_ref: float) -> None:
        """Open the samples file beside ``out``; ``t_ref`` is the run's time reference."""
        assert self.out is not None
        self._t_ref = t_ref
        self._wall_ref = time.time() - (time.monotonic() - t_ref)
        self._sink = SampleSink(samples_path(self.out))

    def sample(self, address: str, tick: int, sample: Sample) -> None:
        """One sample, as polled."""
        if self._sink is not None:
            self._sink.sample(address, tick, sample)

    def journal_line(self) -> dict[str, Any]:
        """The journal's ``shard`` line (after :meth:`start`): the ``shard`` block but its samples file, which
        ``recover`` writes again from the journal's polls (:mod:`bench.miners.fleet.recovery`)."""
        info = self._info(SamplesRef(file="pending.parquet", sha256="0" * 64, rows=0, bytes=0))
        return {"type": SHARD_LINE, "shard": info.model_dump(mode="json", exclude={"samples"})}

    def _info(self, ref: SamplesRef) -> ShardInfo:
        assert self._t_ref is not None and self._wall_ref is not None
        return ShardInfo(run_id=self.run_id, run_id_from=self.run_id_from, k=self.shard.k, n=self.shard.n,
                         source=self.shard.source, detail=self.shard.detail[:2000], hosts=self.part.total,
                         hosts_sha256=self.part.fingerprint, miners=len(self.part.specs), window_s=self.window_s,
                         period_s=self.period_s, t_ref=self._t_ref, wall_ref=self._wall_ref,
                         clock=clock_record(self.clock), samples=ref)

    def finish(self, doc: Document, outlets: dict[str, OutletLog]) -> Document:
        """The outlets' readings added, the samples file closed into place, the result with the ``shard`` block."""
        assert self.out is not None
        if self._sink is None:
            self.start(time.monotonic())
        assert self._sink is not None
        for address, log in outlets.items():
            self._sink.outlet(address, log.readings)
        path = samples_path(self.out)
        self._sink.close()
        return shard_result(doc, self._info(samples_ref(path, self._sink.rows)))

    def abort(self) -> None:
        """Remove a samples file not yet in place."""
        if self._sink is not None:
            self._sink.abort()


def prepare(specs: list[str], shard_spec: str | None, run_id_arg: str | None, samples: str, *,
            window_s: float, period_s: float, force: bool = False,
            env: Mapping[str, str] | None = None) -> ShardRun | None:
    """The shard this process runs (None: an ordinary run, one JSON file).

    Raises:
        UsageError: a bad ``--shard`` or ``--run-id``, the job's variables not making a shard, a shard without a
            run id, ``--samples json`` for a shard, or pyarrow missing (one line naming the extra).
    """
    env = os.environ if env is None else env
    if samples not in SAMPLES:
        raise UsageError(f"--samples {samples!r}: one of {', '.join(SAMPLES)}")
    shard = choose(shard_spec, env)
    if shard is None and samples != "parquet":
        if run_id_arg is not None:
            raise UsageError("--run-id names the run a shard belongs to: give --shard K/N (or run it in a job array)")
        return None
    if shard is not None and samples == "json":
        raise UsageError(f"--samples json: shard {shard.label} writes its samples as Parquet (merge reads them)")
    arrow()  # pyarrow is there before anything is polled
    found = runid.run_id(run_id_arg, env)
    if shard is None:
        shard = Shard(0, 1, "--samples parquet")
        found = found or (uuid.uuid4().hex, "new")
    if found is None:
        raise UsageError(f"shard {shard.label}: the shards of one run share a run id: give --run-id ID "
                         f"(or set {runid.RUN_ID_ENV}; a Slurm job array gives SLURM_ARRAY_JOB_ID)")
    part = select(specs, shard, force=force)
    if not part.specs:
        raise UsageError(f"shard {shard.label}: no miner in this shard ({part.total} address(es) in {shard.n} shards)")
    if len(part.specs) > MAX_RUNS:
        raise UsageError(f"shard {shard.label}: {len(part.specs):,} addresses, more than the {MAX_RUNS:,} runs a result "
                         f"file holds: use at least {-(-part.total // MAX_MINERS_PER_SHARD)} shards")
    state = runid.clock_state()
    run = ShardRun(shard, found[0], found[1], part, window_s, period_s, state)
    run.said.append(f"{shard.said()}: {len(part.specs)} of {part.total} address(es); run id {found[0]} "
                    f"(from {found[1]}); windows start on multiples of {window_s:g} s in UTC")
    bound = state.bound_s
    run.said.append("clock: " + (f"within {bound:.3g} s of UTC" if bound is not None else "offset unknown")
                    + f" ({', '.join(state.sources) or 'no NTP state'}"
                    + ("; NOT synchronised" if state.synchronised is False else "") + ")")
    return run


def from_args(args: Any, specs: list[str], env: Mapping[str, str] | None = None) -> ShardRun | None:
    """:func:`prepare` from ``miners run``'s options (``--shard``, ``--run-id``, ``--samples``); a shard refuses a sweep.

    Raises:
        UsageError: as :func:`prepare`; ``--power-target`` with a shard.
    """
    run = prepare(specs, args.shard, args.run_id, args.samples, window_s=args.window, period_s=args.period,
                  force=args.force, env=env)
    if run is not None and (args.power_target is not None or getattr(args, "set_power_target", None) is not None):
        raise UsageError(f"--power-target with shard {run.shard.label}: sweep a shard's miners in a run of their own "
                         "(a sharded run measures each miner as it is)")
    return run


def bind(run: ShardRun, out: Path, *, force: bool = False) -> ShardRun:
    """``run`` writing its result to ``out`` (its samples beside it, which must be writable too)."""
    check_writable(samples_path(out), "--out", replace=force)
    run.out = out
    return run
