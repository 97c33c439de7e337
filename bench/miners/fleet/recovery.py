"""A shard killed before its end (SIGKILL, a crash): ``sitebench recover`` makes its result again, samples included.

A shard's journal holds what every miners run journals (its runs are rebuilt from it as any miners run's are:
:mod:`bench.miners.record.recovery`) and the ``shard`` line the run wrote as it started
(:meth:`~bench.miners.fleet.summary.ShardRun.journal_line`): the ``shard`` block but its samples file.

The samples file the killed run was writing is not used. Parquet keeps its metadata (the schema and where each
row group is) in a footer written when the file closes: a file cut by a kill holds its complete row groups but
no footer, so no reader can open it, and it is a temporary file (``.NAME.parquet.*.tmp``) that nothing names.
The samples are written again from the journal instead, which took every poll as it came (each handed to the
OS as polled, before the Parquet writer saw it): every poll the runs were rebuilt from (a line that fails its
types, names a miner the ``miners`` line does not, or goes back in time is left out here as there) becomes a
row, in the journal's order, which is the order polled; then each miner's outlet readings, as a live shard
adds them at its end. The result gets the ``shard`` block with the new file's SHA-256 and rows, and its runs
lose their series (:func:`~bench.miners.fleet.summary.strip`), so it validates against its samples and
merges like any shard. The cut temporary file is removed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench.errors import UsageError
from bench.measure.recover import Journaled, on_write
from bench.miners.fleet.parquet import outlet_row, poll_row
from bench.miners.fleet.summary import SHARD_LINE, samples_path, samples_ref, shard_result
from bench.miners.measure.journal import MinersHead, head_from, sample_from
from bench.miners.protocol.model import Identity
from bench.miners.record.recovery import is_miners_journal
from bench.record import Document, check_writable
from bench.record.io import first_error
from bench.record.samples import SamplesWriter
from bench.record.shards import SamplesRef, ShardInfo

#: A stand-in for the samples file while the ``shard`` line is typed (the line has none).
_PENDING = SamplesRef(file="pending.parquet", sha256="0" * 64, rows=0, bytes=0)


def is_shard_journal(j: Journaled) -> bool:
    """True for the journal of a shard of a fleet run (a miners run with an intact ``shard`` line)."""
    return is_miners_journal(j) and any(line.kind == SHARD_LINE for line in j.lines)


def shard_info(obj: dict[str, Any]) -> ShardInfo:
    """The ``shard`` block a ``shard`` line holds (``{"type": "shard", "shard": {...}}``; its samples still to be
    named).

    Raises:
        ValueError: a line that fails the block's types.
    """
    fields = obj.get("shard")
    if not isinstance(fields, dict):
        raise ValueError("no shard object")
    try:
        return ShardInfo.model_validate({**fields, "samples": _PENDING.model_dump()})
    except ValidationError as exc:
        raise ValueError(first_error(exc)) from None


def _head(j: Journaled) -> MinersHead | None:
    for line in j.of_kind("miners"):
        try:
            return head_from(line.value)
        except (KeyError, TypeError, ValueError):
            continue  # the rebuild reported it
    return None


def _tick(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 else None


def write_samples(j: Journaled, head: MinersHead, path: Path) -> int:
    """The journal's polls and outlet readings of ``head``'s miners as the samples file at ``path``; its rows."""
    by_address: dict[str, Identity] = {i.address: i for i, _ in head.miners}
    last: dict[str, float] = {}
    with SamplesWriter(path) as writer:
        for line in j.of_kind("poll"):
            miner = line.value.get("miner")
            identity = by_address.get(miner) if isinstance(miner, str) else None
            if identity is None:
                continue
            try:
                sample = sample_from(line.value.get("sample"), identity)
            except (KeyError, TypeError, ValueError):
                continue
            if identity.address in last and sample.t <= last[identity.address]:
                continue
            last[identity.address] = sample.t
            writer.add(poll_row(identity.address, _tick(line.value.get("tick")), sample))
        for identity, outlet in head.miners:
            for reading in j.readings.get(outlet, []) if outlet else []:
                writer.add(outlet_row(identity.address, reading))
        return writer.rows


def finish(j: Journaled, doc: Document, out: Path, replace: bool) -> Document:
    """The shard's result to write at ``out``: its samples written again beside it from the journal, its runs
    without their series, the ``shard`` block naming the new file.

    Raises:
        UsageError: the ``shard`` or ``miners`` line does not type (the file would not be a shard's: nothing is
            written), or the samples file beside ``out`` exists and ``replace`` is not given.
    """
    line = next(x for x in j.lines if x.kind == SHARD_LINE)
    try:
        info = shard_info(line.value)
    except ValueError as exc:
        raise UsageError(f"line {line.no}: the shard line fails its types ({exc}): the shard's result cannot be "
                         "made again") from None
    head = _head(j)
    if head is None:
        raise UsageError("no intact miners line: the shard's samples cannot be written again (which miner each "
                         "poll is of is on that line)")
    path = samples_path(out)
    check_writable(path, "--out", replace=replace)
    rows = write_samples(j, head, path)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # the killed run's file, cut without its footer
        stale.unlink(missing_ok=True)
    info = info.model_copy(update={"samples": samples_ref(path, rows)})
    return shard_result(doc, info)


on_write(is_shard_journal, finish, (SHARD_LINE,))
