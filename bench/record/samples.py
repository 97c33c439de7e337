"""Per-poll samples as a Parquet file (through pyarrow): written as they come, read as a stream.

A shard of a fleet run (``miners run --shard``) keeps every poll of every miner, and every reading of
its outlet meters, as one row of a Parquet file beside its JSON result, which records the file's name,
SHA-256 and row count (:class:`bench.record.fleet.SamplesRef`). Columns (:data:`COLUMNS`; null where the
firmware does not report a figure, never 0):

``miner`` (``host:port``), ``kind`` (``poll``: an answer; ``failed``: a poll without one, ``reason`` says
why; ``outlet``: a reading of the miner's PDU outlet), ``tick`` (the poll's number in the schedule),
``t`` (the poller's monotonic clock, s), ``wall`` (UTC, s since the epoch), ``elapsed_s``, ``hashes``
(the cumulative counter, H) and ``hashes_resolution``, ``accepted_difficulty``, ``rejected_difficulty``,
``shares``, ``hw_errors``, ``share_difficulty``, ``rate_hs`` (the firmware's 5 s rate), ``nominal_hs``,
``power_w`` (the firmware's figure; an outlet's reading on an ``outlet`` row), ``energy_j`` (an outlet's
counter), ``stable``, ``chips`` and ``chips_expected`` (all boards), per-board lists ``board_temp_c``,
``board_chip_temp_c``, ``board_chips`` and ``fans_rpm``.

Rows go out in row groups of :data:`ROW_GROUP` as polled (memory holds one group), into a temporary
file renamed into place when the writer closes: the file named in a result is always whole. Readers
take :func:`batches` (``iter_batches``: one batch in memory at a time), :func:`sha256` (1 MiB at a time)
and :func:`rows` (the footer). pyarrow is imported only here, when used: without it, one line says which
extra to install.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.errors import UsageError

#: Rows per row group (and per batch a reader holds).
ROW_GROUP = 65_536
#: The most bytes (uncompressed) one row group of a samples file may hold: a reader holds one at a time. The
#: writer's groups are about 200 bytes a row; a file from elsewhere is bounded before it is read.
MAX_GROUP_BYTES = 256 * 1024 * 1024
#: The schema's version, in the file's key-value metadata.
FORMAT = "sitebench.samples/1"
#: Column name -> Arrow type name (``list<...>`` for per-board lists).
COLUMNS: dict[str, str] = {
    "miner": "dictionary<string>", "kind": "dictionary<string>", "tick": "int32", "t": "float64", "wall": "float64",
    "elapsed_s": "float64", "hashes": "float64", "hashes_resolution": "float64", "accepted_difficulty": "float64",
    "rejected_difficulty": "float64", "shares": "int64", "hw_errors": "int64", "share_difficulty": "float64",
    "rate_hs": "float64", "nominal_hs": "float64", "power_w": "float64", "energy_j": "float64", "stable": "bool",
    "chips": "int32", "chips_expected": "int32", "board_temp_c": "list<float64>", "board_chip_temp_c": "list<float64>",
    "board_chips": "list<int32>", "fans_rpm": "list<int32>", "reason": "dictionary<string>",
}
EXTRA = "fleet"


def arrow() -> tuple[ModuleType, ModuleType]:
    """``(pyarrow, pyarrow.parquet)``.

    Raises:
        UsageError: pyarrow is not installed (one line naming the extra).
    """
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise UsageError(f"Parquet samples need pyarrow: pip install 'sitebench[{EXTRA}]'") from None
    return pyarrow, pyarrow.parquet


def schema() -> Any:
    """The Arrow schema of a samples file."""
    pa, _ = arrow()
    simple = {"int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(), "float32": pa.float32(),
              "bool": pa.bool_()}
    fields = []
    for name, kind in COLUMNS.items():
        if kind.startswith("dictionary"):
            typ = pa.dictionary(pa.int32(), pa.string())
        elif kind.startswith("list<"):
            typ = pa.list_(simple[kind[5:-1]])
        else:
            typ = simple[kind]
        fields.append(pa.field(name, typ, nullable=name not in ("miner", "kind", "t")))
    return pa.schema(fields, metadata={b"format": FORMAT.encode()})


class SamplesWriter:
    """Rows appended as they come, written a row group at a time; :meth:`close` renames the file into place.

    Use as a context manager, or call :meth:`close` (keep) or :meth:`abort` (discard) yourself.
    """

    def __init__(self, path: str | os.PathLike[str], row_group: int = ROW_GROUP) -> None:
        pa, pq = arrow()
        self.path = Path(path)
        self.rows = 0
        self._row_group = max(int(row_group), 1)
        self._schema = schema()
        self._columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self._pending = 0
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent or ".")
        os.close(fd)
        self._tmp = Path(tmp)
        self._writer = pq.ParquetWriter(str(self._tmp), self._schema, compression="zstd")
        self._pa = pa

    def __enter__(self) -> SamplesWriter:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def add(self, row: dict[str, Any]) -> None:
        """One row (missing columns are null); a full row group is written at once."""
        for name, values in self._columns.items():
            values.append(row.get(name))
        self._pending += 1
        self.rows += 1
        if self._pending >= self._row_group:
            self.flush()

    def flush(self) -> None:
        """Write the rows held as one row group."""
        if not self._pending:
            return
        table = self._pa.Table.from_pydict(self._columns, schema=self._schema)
        self._writer.write_table(table, row_group_size=self._pending)
        self._columns = {name: [] for name in COLUMNS}
        self._pending = 0

    def close(self) -> Path:
        """Write what is held, close, and rename the file into place; returns its path."""
        self.flush()
        self._writer.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._tmp, 0o666 & ~umask)  # as any file this user writes (mkstemp made it 0600)
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Close and remove the temporary file: nothing is left half-written."""
        try:
            self._writer.close()
        finally:
            self._tmp.unlink(missing_ok=True)


def sha256(path: str | os.PathLike[str]) -> str:
    """The file's SHA-256 (hex), read 1 MiB at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def open_file(path: str | os.PathLike[str]) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` of a samples file.

    Raises:
        UsageError: pyarrow missing. ValueError: not a samples file (not Parquet, or another schema).
    """
    _, pq = arrow()
    try:
        f = pq.ParquetFile(str(path))
    except (OSError, ValueError) as exc:
        raise ValueError(f"not a Parquet file ({str(exc)[:200]})") from None
    meta = f.schema_arrow.metadata or {}
    if meta.get(b"format") != FORMAT.encode():
        raise ValueError(f"not a sitebench samples file (format {meta.get(b'format', b'none')[:40]!r}, "
                         f"expected {FORMAT})")
    missing = [c for c in COLUMNS if c not in f.schema_arrow.names]
    if missing:
        raise ValueError(f"columns missing: {', '.join(missing[:5])}")
    md = f.metadata
    for i in range(md.num_row_groups):
        size = md.row_group(i).total_byte_size
        if size > MAX_GROUP_BYTES:
            raise ValueError(f"row group {i} holds {size:,} bytes uncompressed, over the {MAX_GROUP_BYTES:,} a reader "
                             "takes at once")
    return f


def rows(path: str | os.PathLike[str]) -> int:
    """Rows in the file, from its footer."""
    return int(open_file(path).metadata.num_rows)


def batches(path: str | os.PathLike[str], columns: Sequence[str] | None = None,
            batch_size: int = ROW_GROUP) -> Iterator[Any]:
    """The file's rows as ``pyarrow.RecordBatch`` es of at most ``batch_size`` rows, in order: one at a time in memory."""
    f = open_file(path)
    yield from f.iter_batches(batch_size=batch_size, columns=list(columns) if columns is not None else None)


def check(path: str | os.PathLike[str], digest: str, count: int) -> str | None:
    """Why the file at ``path`` is not the one a result names (SHA-256 ``digest``, ``count`` rows), None when it is."""
    p = Path(path)
    if not p.is_file():
        return f"{p.name}: no such samples file beside the result"
    got = sha256(p)
    if got != digest:
        return f"{p.name}: SHA-256 {got[:16]}... but the result names {digest[:16]}... (changed or replaced)"
    try:
        n = rows(p)
    except ValueError as exc:
        return f"{p.name}: {exc}"
    if n != count:
        return f"{p.name}: {n} rows but the result names {count}"
    return None
