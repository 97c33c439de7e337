"""Check registry, findings and the validate entry points.

A file is read strictly (no duplicate keys, no NaN), typed by the record
(every field typed and bounded: the schema), then every registered check
recomputes what it can from the raw samples. Nothing here raises on a
malformed file: problems come back as findings.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass

from bench.errors import InvalidResultFile
from bench.record import Document
from bench.record.io import KNOWN_SCHEMAS, from_json, parse_json, read_text, schema_errors, schema_version
from bench.record.upgrade import upgrade_v1


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


def close(a: float | None, b: float | None, rel: float = 1e-6) -> bool:
    """Two figures equal to ``rel`` (both None counts as equal): how checks compare a figure with its recomputation."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def errors(findings: list[Finding]) -> list[Finding]:
    """The findings that fail a file (notes left out)."""
    return [f for f in findings if f.level == "error"]


CheckFn = Callable[[Document], list[Finding]]
CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under ``name``."""
    def deco(fn: CheckFn) -> CheckFn:
        CHECKS[name] = fn
        return fn
    return deco


def run_checks(doc: Document, *, only: Collection[str] | None = None, skip: Collection[str] = ()) -> list[Finding]:
    """Every registered check's findings for a typed document (``only`` those named, none of ``skip``); a check
    that breaks is a note, not a crash."""
    out: list[Finding] = []
    for name, fn in CHECKS.items():
        if (only is not None and name not in only) or name in skip:
            continue
        try:
            out.extend(fn(doc))
        except (TypeError, ValueError, KeyError, AttributeError, ZeroDivisionError, OverflowError, IndexError) as exc:
            out.append(Finding(name, "$", f"check could not run on this document ({type(exc).__name__})", "note"))
    return out


FileCheck = Callable[[Document, str], "list[Finding] | None"]
#: Checks of documents whose raw data is in a file beside them (a shard's Parquet samples): ``(doc, path)`` to
#: every finding of the document, or None when it is not theirs (then the registered checks run as usual).
FILE_CHECKS: list[FileCheck] = []


@dataclass
class Validated:
    """What validating one file found: the typed document (None when it did not type), its version, findings."""

    doc: Document | None
    version: str | None
    findings: list[Finding]


def validate_text(text: str, path: str = "<text>") -> Validated:
    """Parse, type and check one file's text."""
    try:
        obj = parse_json(text, path)
        version = schema_version(obj, path)
    except InvalidResultFile as exc:
        return Validated(None, None, [Finding("json" if exc.json_path != "$.schema" else "schema", exc.json_path,
                                              exc.reason)])
    try:
        doc = from_json(obj, path)
    except InvalidResultFile:
        if version != KNOWN_SCHEMAS[-1]:
            obj = upgrade_v1(obj)
        return Validated(None, version, [Finding("schema", p, m) for p, m in schema_errors(obj)])
    for file_check in FILE_CHECKS:
        found = file_check(doc, path)
        if found is not None:
            return Validated(doc, version, found)
    return Validated(doc, version, run_checks(doc))


def validate_file(path: str | os.PathLike[str]) -> Validated:
    """Read, parse, type and check one file. Unreadable files raise UsageError; a too-large file is a finding."""
    try:
        text = read_text(path)
    except InvalidResultFile as exc:
        return Validated(None, None, [Finding("json", exc.json_path, exc.reason)])
    return validate_text(text, str(path))
