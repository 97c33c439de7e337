"""Reading and writing result files: strict JSON in, a typed :class:`Document` out, atomic writes.

Reading refuses what JSON allows but a result file must not hold: NaN and
infinities, a key twice in one object (the last would silently win, so a
signed file could say two things), nesting deeper than any record. A version 1
file is upgraded (:mod:`bench.record.upgrade`) before it is checked.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench.builtin import DATA, resolve
from bench.errors import InvalidResultFile, UsageError
from bench.record.document import SCHEMA_ID, Document
from bench.record.upgrade import upgrade_v1

#: Result files larger than this are refused before they are read.
MAX_BYTES = 64 * 1024 * 1024
#: Schema ids this version reads.
KNOWN_SCHEMAS = ("sitebench.result/1", SCHEMA_ID)


#: JSON objects and arrays one file may hold: far above a real file (a 10-minute run of ten meters is
#: about 70,000), far below what would take the reader gigabytes (an 8 MB file of ``{}`` is 2.7 million).
MAX_CONTAINERS = 2_000_000


class _Object(dict[str, Any]):
    """A parsed JSON object that remembers keys it saw twice."""

    duplicates: list[str]


class _Duplicate(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def _plain_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Duplicate
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_path(parts: Any) -> str:
    """``["runs", 0, "power"]`` -> ``$.runs[0].power``."""
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _first_duplicate(obj: Any, path: tuple[Any, ...] = ()) -> tuple[tuple[Any, ...], str] | None:
    stack: list[tuple[Any, tuple[Any, ...]]] = [(obj, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, _Object):
            if node.duplicates:
                return where, node.duplicates[0]
            stack.extend((v, (*where, k)) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((v, (*where, i)) for i, v in reversed(list(enumerate(node))))
    return None


def parse_json(text: str, path: str = "<text>") -> dict[str, Any]:
    """Strict JSON text to a plain object: no NaN/Infinity, no duplicate keys, an object at the top.

    Raises:
        InvalidResultFile: naming the JSON path at fault.
    """
    containers = text.count("{") + text.count("[")  # an upper bound: brackets inside strings count too
    if containers > MAX_CONTAINERS:
        raise InvalidResultFile(path, "$", f"{containers} objects and arrays, over the {MAX_CONTAINERS} a result "
                                           "file may hold")
    try:
        doc = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_plain_pairs)
    except _Duplicate:  # rare: parse again, remembering where, to name the key and its path
        tracked = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_pairs)
        where, key = _first_duplicate(tracked) or ((), "?")
        raise InvalidResultFile(path, json_path(where), f"key {key!r} appears twice in one object") from None
    except RecursionError:
        raise InvalidResultFile(path, "$", "JSON nested too deeply") from None
    except ValueError as exc:
        raise InvalidResultFile(path, "$", f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidResultFile(path, "$", "expected a JSON object")
    return doc


def error_lines(exc: ValidationError) -> list[tuple[str, str]]:
    """A validation error as sorted ``(json path, message)`` pairs."""
    out = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        message = str(err["msg"])
        out.append((json_path(err["loc"]), message if len(message) <= 200 else message[:197] + "..."))
    return sorted(set(out))


def first_error(exc: ValidationError) -> str:
    """``$.path: message (and N more)``: one line for a record that failed its types."""
    lines = error_lines(exc)
    where, message = lines[0] if lines else ("$", "invalid")
    more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
    return f"{where}: {message}{more}"


def schema_errors(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """Every way ``obj`` (a parsed, upgraded file) fails the record's types, as ``(json path, message)``."""
    try:
        Document.model_validate(obj)
    except ValidationError as exc:
        return error_lines(exc)
    except RecursionError:
        return [("$", "JSON nested too deeply")]
    return []


def schema_version(obj: dict[str, Any], path: str) -> str:
    """The file's schema id, one of :data:`KNOWN_SCHEMAS`.

    Raises:
        InvalidResultFile: any other (or no) schema id.
    """
    found = obj.get("schema")
    if found not in KNOWN_SCHEMAS:
        shown = repr(found)[:80]
        raise InvalidResultFile(path, "$.schema", f"expected one of {', '.join(KNOWN_SCHEMAS)}, found {shown}")
    return str(found)


def from_json(obj: dict[str, Any], path: str = "<document>") -> Document:
    """A typed document from a parsed file of any known version.

    Raises:
        InvalidResultFile: unknown version, or the first way the file fails the record's types
            (and how many more).
    """
    if schema_version(obj, path) != SCHEMA_ID:

        obj = upgrade_v1(obj)
    try:
        return Document.model_validate(obj)
    except (ValidationError, RecursionError):
        errors = schema_errors(obj) or [("$", "not a valid result file")]
        where, message = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InvalidResultFile(path, where, message + more) from None


def read_text(path: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> str:
    """A file's text with the size limit checked before reading (``builtin:NAME`` reads a shipped file).

    Raises:
        UsageError: missing or unreadable. InvalidResultFile: too large, not UTF-8.
    """

    p = resolve(path)
    try:
        if p.is_dir():
            raise UsageError(f"{p}: is a directory")
        size = p.stat().st_size
        if size > max_bytes:
            raise InvalidResultFile(str(p), "$", f"file is {size} bytes, over the {max_bytes} byte limit")
        return p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"{p}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidResultFile(str(p), "$", "not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{p}: cannot read ({exc.strerror or exc})") from None


def load(path: str | os.PathLike[str]) -> Document:
    """Read, parse and type one result file.

    Raises:
        UsageError: the file cannot be read. InvalidResultFile: it is not a valid result file.
    """
    return from_json(parse_json(read_text(path), str(path)), str(path))


def dumps(doc: Document | dict[str, Any]) -> str:
    """The document as indented JSON text."""
    obj = doc.to_json() if isinstance(doc, Document) else doc
    return json.dumps(obj, indent=1, allow_nan=False, ensure_ascii=False) + "\n"


def write_atomic(path: str | os.PathLike[str], text: str, mode: int | None = None) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, fsync, rename).

    The file gets ``mode`` when given, else the permissions the user's umask
    gives a new file (0644 by default), not the temporary file's 0600.

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
            os.fchmod(fh.fileno(), mode if mode is not None else _umask_mode())
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


def _umask_mode() -> int:
    current = os.umask(0)
    os.umask(current)
    return 0o666 & ~current


def write_result(path: str | os.PathLike[str], doc: Document) -> Path:
    """Write a result document atomically."""
    return write_atomic(path, dumps(doc))


def check_directory(path: str | os.PathLike[str], option: str, named: str | os.PathLike[str] | None = None) -> Path:
    """The nearest existing directory at or above ``path``, when it is one this process may create entries in.

    Raises:
        UsageError: naming the option, ``named`` (default ``path``) and why.
    """
    probe, named = Path(path), named if named is not None else path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{option} {named}: {probe} is a file, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {named}: directory {probe} is not writable")
    return probe


def check_writable(path: str | os.PathLike[str], option: str = "--out", *, replace: bool = False) -> None:
    """Fail early, before any measuring, when ``path`` cannot be written.

    An existing file is replaced only with ``replace`` (the command's ``--force``),
    and nothing is ever written into the data shipped inside the package.

    Raises:
        UsageError: naming the option, the path and why.
    """

    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{option} {target}: is a directory")
    if target.resolve().is_relative_to(DATA):
        raise UsageError(f"{option} {target}: is inside the data shipped with sitebench ({DATA}); write elsewhere")
    if target.exists() and not replace:
        raise UsageError(f"{option} {target}: file exists (pass --force to replace it)")
    probe = check_directory(target.parent, option, target)
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"{option} {target}: file is not writable")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe",
                                   dir=target.parent if target.parent.exists() else probe)
    except OSError as exc:
        raise UsageError(f"{option} {target}: cannot write there ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)
