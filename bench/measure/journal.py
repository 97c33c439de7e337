"""The journal: an append-only JSON-lines stream of everything measured, written as it happens.

It sits beside the result file (``<out>.journal.jsonl``). Its first line is a
``header`` (the document's id, system and settings); then the sampler's
``reading``, ``gap`` and ``marker`` lines; and a ``run`` line holding each
complete run record the moment the run ends, fsynced after the readings it
depends on. After a crash, SIGKILL or a power cut, ``sitebench recover``
rebuilds a result file from it (:mod:`bench.measure.recover`). It is removed once the
complete result file is written, and never appended to by a later run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import IO, Any

from bench.errors import UsageError
from bench.measure.runrecord import RunHead
from bench.record import Document, MeterFigure, Run, check_writable

SUFFIX = ".journal.jsonl"


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

    def write(self, record: dict[str, Any], flush: bool = False) -> None:
        """Append one line; ``flush`` hands it to the OS now."""
        self._fh.write(json.dumps(_finite(record), allow_nan=False, default=_plain) + "\n")
        if flush:
            self._fh.flush()

    def sync(self) -> None:
        """Flush and fsync: everything written so far survives a power cut."""
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
