"""Result files (``sitebench.result/1``): build, write atomically, load, check schema.

A result file is written to a temporary file in the target directory,
fsynced, then renamed over the target, so a reader (or a crash) never sees a
half-written file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import uuid
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from bench import __version__
from bench.errors import InvalidResultFile, UsageError

SCHEMA_ID = "sitebench.result/1"
MAX_BYTES = 64 * 1024 * 1024


def utc_now() -> str:
    """Now as RFC 3339 UTC with a ``Z`` suffix."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_document(system: dict[str, Any], runs: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A fresh result document with a new id."""
    return {
        "schema": SCHEMA_ID,
        "id": uuid.uuid4().hex,
        "created": utc_now(),
        "source": "measured",
        "harness": {"name": "sitebench", "version": __version__},
        "system": system,
        **extra,
        "runs": runs if runs is not None else [],
    }


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def dumps(doc: dict[str, Any]) -> str:
    """The document as indented JSON; NaN and infinities become null."""
    return json.dumps(_finite(doc), indent=1, allow_nan=False) + "\n"


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, fsync, rename).

    Raises:
        UsageError: when the directory cannot be created or written.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def write_result(path: str | os.PathLike[str], doc: dict[str, Any]) -> Path:
    """Write a result document atomically."""
    return write_atomic(path, dumps(doc))


def check_writable(path: str | os.PathLike[str]) -> None:
    """Fail early, before any measuring, when ``path`` cannot be written.

    Raises:
        UsageError: naming the path and why.
    """
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--out {target}: is a directory")
    parent = target.parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--out {target}: directory {probe} is not writable")
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"--out {target}: file is not writable")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The shipped JSON Schema of ``sitebench.result/1``."""
    text = resources.files("bench").joinpath("schemas/result-1.schema.json").read_text("utf-8")
    return json.loads(text)


def json_path(parts: Any) -> str:
    """``["runs", 0, "power"]`` -> ``$.runs[0].power``."""
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse(path: str, text: str) -> dict[str, Any]:
    """Parse JSON text strictly (no NaN/Infinity) into a document object.

    Raises:
        InvalidResultFile: when the text is not a JSON object.
    """
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidResultFile(path, "$", "JSON nested too deeply") from None
    except ValueError as exc:
        raise InvalidResultFile(path, "$", f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidResultFile(path, "$", "expected a JSON object")
    return doc


def schema_errors(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Every schema violation as ``(json path, message)``, sorted by path."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    errors = []
    for err in validator.iter_errors(doc):
        message = err.message if len(err.message) <= 200 else err.message[:197] + "..."
        errors.append((json_path(err.absolute_path), message))
    return sorted(errors)


def load(path: str | os.PathLike[str], *, check_schema: bool = True) -> dict[str, Any]:
    """Read and check one result file.

    Raises:
        UsageError: when the file cannot be read.
        InvalidResultFile: when it is not JSON or not ``sitebench.result/1``.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise InvalidResultFile(str(p), "$", f"file is {size} bytes, over the {MAX_BYTES} byte limit")
        text = p.read_text(encoding="utf-8")
    except InvalidResultFile:
        raise
    except IsADirectoryError:
        raise UsageError(f"{p}: is a directory") from None
    except FileNotFoundError:
        raise UsageError(f"{p}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidResultFile(str(p), "$", "not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{p}: cannot read ({exc.strerror or exc})") from None
    doc = parse(str(p), text)
    if check_schema:
        require_schema(doc, str(p))
    return doc


def require_schema(doc: dict[str, Any], path: str) -> None:
    """Raise :class:`InvalidResultFile` (first problem, and how many more) unless ``doc`` is a valid result."""
    if doc.get("schema") != SCHEMA_ID:
        raise InvalidResultFile(path, "$.schema", f"expected {SCHEMA_ID!r}, found {doc.get('schema')!r}")
    errors = schema_errors(doc)
    if errors:
        where, message = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InvalidResultFile(path, where, message + more)


class Journal:
    """Append-only JSON-lines stream of everything measured, flushed as it goes.

    It sits beside the result file (``<out>.journal.jsonl``) and is removed
    once the complete result file is written.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")

    def write(self, record: dict[str, Any], flush: bool = False) -> None:
        """Append one record; ``flush`` forces it to the OS now."""
        self._fh.write(json.dumps(_finite(record)) + "\n")
        if flush:
            self._fh.flush()

    def close(self, remove: bool = False) -> None:
        """Close the stream, removing the file when ``remove`` is set."""
        self._fh.close()
        if remove:
            self.path.unlink(missing_ok=True)
