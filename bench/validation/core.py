"""Check registry, findings and the validate entry points."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from bench.errors import InvalidResultFile, UsageError


@dataclass(frozen=True)
class Finding:
    """One problem: which check, where (JSON path) and what."""

    check: str
    path: str
    message: str
    level: str = "error"

    def line(self, file: str) -> str:
        """``FILE: $.path: message [check]`` (with ``note:`` in front of a note)."""
        note = "note: " if self.level != "error" else ""
        return f"{file}: {self.path}: {note}{self.message} [{self.check}]"


def errors(findings: list[Finding]) -> list[Finding]:
    """The findings that fail a file (notes left out)."""
    return [f for f in findings if f.level == "error"]


CheckFn = Callable[[dict[str, Any]], list[Finding]]
CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under ``name``."""
    def deco(fn: CheckFn) -> CheckFn:
        CHECKS[name] = fn
        return fn
    return deco


def is_declared(doc: dict[str, Any]) -> bool:
    """True for vendor-declared (not measured) files."""
    return doc.get("source") == "declared"


def validate(doc: Any) -> list[Finding]:
    """Schema errors, or (when the schema passes) every registered check's findings.

    Findings of level ``note`` (a check skipped, and why) do not fail a file: see :func:`errors`.
    """
    from bench.resultfile import SCHEMA_ID, schema_errors

    if not isinstance(doc, dict):
        return [Finding("json", "$", "expected a JSON object")]
    if doc.get("schema") != SCHEMA_ID:
        return [Finding("schema", "$.schema", f"expected {SCHEMA_ID!r}, found {doc.get('schema')!r}"[:300])]
    try:
        errs = schema_errors(doc)
    except RecursionError:
        return [Finding("json", "$", "JSON nested too deeply")]
    if errs:
        return [Finding("schema", p, m) for p, m in errs]
    out: list[Finding] = []
    for name, fn in CHECKS.items():
        try:
            out.extend(fn(doc))
        except (TypeError, ValueError, KeyError, AttributeError, ZeroDivisionError, OverflowError) as exc:
            out.append(Finding(name, "$", f"check could not run on this document ({type(exc).__name__})"))
    return out


def read_text(path: str | os.PathLike[str], max_bytes: int | None = None) -> str:
    """File text with the size limit checked before reading."""
    from bench.resultfile import MAX_BYTES

    limit = MAX_BYTES if max_bytes is None else max_bytes
    p = Path(path)
    try:
        if not p.is_file():
            raise UsageError(f"{p}: no such file")
        size = p.stat().st_size
        if size > limit:
            raise InvalidResultFile(str(p), "$", f"file is {size} bytes, over the {limit} byte limit")
        return p.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidResultFile(str(p), "$", "not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{p}: cannot read ({exc.strerror or exc})") from None


def validate_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any] | None, list[Finding]]:
    """Parse and validate one file; ``(doc or None, findings)``. Unreadable files raise UsageError."""
    from bench.resultfile import parse

    try:
        doc = parse(str(path), read_text(path))
    except InvalidResultFile as exc:
        return None, [Finding("json", getattr(exc, "json_path", "$"), exc.reason)]
    return doc, validate(doc)
