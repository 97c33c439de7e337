"""The journal: an append-only JSON-lines stream of everything measured, written as it happens.

It sits beside the result file (``<out>.journal.jsonl``). Its first line is a
``header`` (the document's id, system and settings); then the sampler's
``reading``, ``gap`` and ``marker`` lines; and a ``run`` line holding each
complete run record the moment the run ends, fsynced after the readings it
depends on. After a crash, SIGKILL or a power cut, ``sitebench recover``
rebuilds a result file from it (:mod:`bench.measure.recover`). It is removed once the
complete result file is written, and never appended to by a later run.

Every line carries its sequence number and a checksum, so damage is known rather than guessed
(:func:`frame`): ``{"n":7,"type":"window",...,"c":"1f2e3d4c"}`` where ``n`` counts the lines from 0
(the header) and ``c`` is the CRC-32, as 8 lowercase hex digits, of the line's bytes as written
without the ``c`` field (the compact JSON object ``{"n":7,"type":"window",...}``). A flipped bit
fails the checksum; a lost, repeated or moved line shows in the sequence numbers. Journals written
before checksums (no ``n``, no ``c``) still recover, unchecked. The limits a journal is read under
(:data:`MAX_LINE_BYTES`, :data:`MAX_JOURNAL_BYTES`, :data:`MAX_DEPTH`) are here too;
:mod:`bench.measure.journalfile` reads it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import threading
import time
import zlib
from pathlib import Path
from typing import IO, Any

from bench.errors import UsageError
from bench.measure.runrecord import RunHead
from bench.record import Document, MeterFigure, Run, check_writable

SUFFIX = ".journal.jsonl"

#: The longest line read (bytes, without its newline): a run line holds one run record, never more than a
#: result file may (:data:`bench.record.io.MAX_BYTES`); a longer line is damage, skipped without being held.
MAX_LINE_BYTES = 64 * 1024 * 1024
#: The most of a journal read (bytes): about 60 hours of one meter's readings at 10 Hz with its telemetry,
#: or 2 million lines. Past it the rest is not read, and reported. ``sitebench recover --max-bytes`` raises it.
MAX_JOURNAL_BYTES = 256 * 1024 * 1024
#: The deepest nesting of JSON objects and arrays in one line (a run record's is 8).
MAX_DEPTH = 32
#: The checksum's field, as the last of every line: ``,"c":"`` + 8 hex digits + ``"}``.
_TAIL_LEN = 16
_HEX = re.compile(rb"[0-9a-f]{8}")


def frame(record: dict[str, Any], n: int) -> str:
    """One journal line (with its newline): ``record`` with its sequence number ``n`` and checksum.

    Raises:
        ValueError: the record holds ``n`` or ``c`` already, or a value JSON cannot hold.
    """
    if "n" in record or "c" in record:
        raise ValueError("a journal record's own fields may not be named n or c")
    body = json.dumps({"n": n, **_finite(record)}, allow_nan=False, default=_plain, separators=(",", ":"))
    return f'{body[:-1]},"c":"{zlib.crc32(body.encode()):08x}"}}\n'


def unframe(raw: bytes) -> tuple[bytes, bool | None]:
    """A line's JSON (newline removed) and whether its checksum holds: None when it carries no checksum.

    The JSON given back is the object without its ``c`` field when there is one.
    """
    raw = raw.rstrip(b"\r\n")
    tail = raw[-_TAIL_LEN:]
    if len(raw) < _TAIL_LEN + 2 or tail[:6] != b',"c":"' or tail[14:] != b'"}' or not _HEX.fullmatch(tail, 6, 14):
        return raw, None
    body = raw[:-_TAIL_LEN] + b"}"
    return body, zlib.crc32(body) == int(tail[6:14], 16)


def journal_path(out: str | os.PathLike[str]) -> Path:
    """The journal of the result file ``out``."""
    p = Path(out)
    return p.with_name(p.name + SUFFIX)


class Journal:
    """An open journal; created new (an existing file at the path is never appended to)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fh: IO[str] = open(self.path, "x", encoding="utf-8")
        except FileExistsError:
            raise UsageError(f"{self.path}: a journal is already there (an earlier run that did not finish?): "
                             f"rebuild it with 'sitebench recover {self.path}' or move it away") from None
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot write the journal ({exc.strerror or exc})") from None
        self._n = 0
        self._write_lock = threading.Lock()  # the sampler's thread and the runner write; sequence numbers stay in order

    def write(self, record: dict[str, Any], flush: bool = False) -> None:
        """Append one line (numbered and checksummed, :func:`frame`); ``flush`` hands it to the OS now."""
        with self._write_lock:
            self._fh.write(frame(record, self._n))
            self._n += 1
            if flush:
                self._fh.flush()

    def sync(self) -> None:
        """Flush and fsync: everything written so far survives a power cut."""
        with self._write_lock:
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def header(self, doc: Document, meters: list[MeterFigure]) -> None:
        """The first line: the document the runs will go into (no runs yet) and the meters' provenance, synced."""
        self.write({"type": "header", "document": doc.model_copy(update={"runs": []}).to_json(),
                    "meters": [m.to_json() for m in meters]})
        self.sync()

    def run_start(self, head: RunHead, tag: str) -> None:
        """A run begins: what it is and the tag of its markers."""
        fields = {**dataclasses.asdict(head), "hardware": head.hardware.to_json() if head.hardware else None}
        self.write({"type": "run-start", "tag": tag, "head": fields}, flush=True)

    def window(self, tag: str, index: int, units: float, duration_s: float) -> None:
        """One measured window completed: its units and duration."""
        self.write({"type": "window", "tag": tag, "index": index, "units": units, "duration_s": duration_s},
                   flush=True)

    def run(self, run: Run) -> None:
        """A complete run record, synced after every reading written before it."""
        self.write({"type": "run", "run": run.to_json()})
        self.sync()

    def close(self, remove: bool = False) -> None:
        """Close the stream, removing the file when ``remove`` is set."""
        if not self._fh.closed:
            self._fh.close()
        if remove:
            self.path.unlink(missing_ok=True)


def _finite(obj: Any) -> Any:
    """NaN and infinities (a meter's bad read) become null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def prepare_out(out: Path) -> list[str]:
    """Check ``out`` is writable and no journal is in the way; move a stale journal aside (with a message).

    Raises:
        UsageError: ``out`` cannot be written.
    """
    check_writable(out, replace=True)  # the command refused an existing file unless --force
    journal = journal_path(out)
    if not journal.exists():
        return []
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(journal.stat().st_mtime))
    stem, dot, ext = out.name.rpartition(".")

    def aside_name(tag: str) -> Path:
        return journal.with_name((f"{stem}.{tag}.{ext}" if dot else f"{out.name}.{tag}") + SUFFIX)

    aside, n = aside_name(stamp), 1
    while aside.exists():  # never over an earlier one
        n += 1
        aside = aside_name(f"{stamp}-{n}")
    journal.rename(aside)
    return [f"found a journal left by an earlier run that did not finish: moved to {aside}; "
            f"rebuild its result file with: sitebench recover {aside}"]
