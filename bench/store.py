"""Submission store: validated result files under ``results/submissions/<org>/<system>/<id>.json``.

Every write happens under an exclusive ``fcntl.flock`` on ``<store>/.lock``:
validate first, derive safe names, refuse duplicates (same id or same
content), then write atomically. Nothing is written through a symlink or
outside the store.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.errors import CheckFailed, SitebenchError, UsageError
from bench.record import Document, load, read_text, write_atomic
from bench.record.io import check_directory
from bench.validation import errors, validate_file
from bench.validation.signing import canonical_bytes, trusted_keys, trusted_orgs, verify_document

DEFAULT_STORE = Path("results/submissions")
_SAFE = re.compile(r"[^a-z0-9._-]+")


def safe_name(text: Any, fallback: str = "unknown") -> str:
    """A lower-case file-name component: ``[a-z0-9._-]``, no leading dot, at most 64 chars."""
    s = _SAFE.sub("-", str(text).lower()).strip("-.")[:64].strip("-.")
    return s or fallback


def content_hash(doc: dict[str, Any]) -> str:
    """SHA-256 of the canonical document without ``id`` and ``signature``: a re-labelled copy is a duplicate."""

    return hashlib.sha256(canonical_bytes({k: v for k, v in doc.items() if k != "id"})).hexdigest()


def _system_name(doc: Document) -> str:
    gpus = doc.system.gpus
    if gpus:
        return f"{len(gpus)}x-{gpus[0].name}"
    if doc.system.model:
        return doc.system.model
    return (doc.system.cpu.model if doc.system.cpu else None) or doc.system.hostname or "system"


@contextmanager
def _locked(store: Path) -> Iterator[None]:
    fd = os.open(store / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _safe_dir(store: Path, *parts: str) -> Path:
    d = store
    for part in parts:
        d = d / part
        if d.is_symlink():
            raise CheckFailed(f"{d}: is a symlink, refusing to write through it")
        d.mkdir(exist_ok=True)
    if store.resolve() not in d.resolve().parents:
        raise CheckFailed(f"{d}: outside the store")
    return d


def _index(store: Path) -> tuple[set[str], set[str]]:
    ids, hashes = set(), set()
    for p in store.glob("*/*/*.json"):
        if p.is_symlink():
            continue
        ids.add(p.stem)
        try:
            hashes.add(content_hash(json.loads(p.read_text(encoding="utf-8"))))
        except (OSError, ValueError, RecursionError):
            continue
    return ids, hashes


def _same_org(a: str, b: str) -> bool:
    """Organisation names compared as people write them (case and surrounding space aside), not as file names."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _org(doc: Document, path: Any, cli_org: str | None, signer_org: str | None) -> str:
    """The submitting organisation: the signing key's, else the signed-over ``submitter.org``, else ``--org``."""
    content = doc.submitter.org if doc.submitter and doc.submitter.org else None
    if signer_org and content and not _same_org(signer_org, content):
        raise CheckFailed(f"{path}: $.submitter.org: says {content!r} but the file is signed by {signer_org!r}'s key")
    org = signer_org or content or cli_org
    if not org:
        raise UsageError(f"{path}: no organisation: unsigned and no submitter.org; give --org")
    if cli_org and not _same_org(cli_org, org):
        raise CheckFailed(f"{path}: $.submitter.org: --org {cli_org!r} but the file is from {org!r}")
    return org


def check_store(store: str | os.PathLike[str]) -> None:
    """Raise UsageError, before anything is read, when ``store`` cannot be (or become) a writable directory."""
    check_directory(store, "--store")


def submit(path: str | os.PathLike[str], org: str | None = None, store: str | os.PathLike[str] = DEFAULT_STORE,
           keys_dir: str | os.PathLike[str] | None = None, require_signature: bool = False) -> Path:
    """Validate ``path`` and file it in ``store`` under its organisation; return the stored path.

    A signature, when present (or required), must verify with a trusted key in
    ``keys_dir``; the organisation is that key's, else the file's
    ``submitter.org``, else ``org`` (``--org``), and these must agree.

    Raises:
        CheckFailed: invalid file, bad or untrusted signature, organisations that disagree, a duplicate.
        UsageError: unreadable file, no organisation at all.
    """

    check_store(store)
    result = validate_file(path)
    findings = errors(result.findings)
    doc = result.doc
    if findings or doc is None:
        f = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        raise CheckFailed(f"{path}: {f.path}: {f.message}{more}")
    text = read_text(path)
    signer_org = None
    if require_signature or doc.signature is not None:
        keys = trusted_keys(keys_dir) if keys_dir is not None else {}
        try:
            kid = verify_document(text, keys)
        except CheckFailed as exc:
            raise CheckFailed(f"{path}: {exc}") from None
        signer_org = trusted_orgs(keys_dir).get(kid) if keys_dir is not None else None
    org = _org(doc, path, org, signer_org)
    root = Path(store)
    if root.is_symlink():
        raise CheckFailed(f"{root}: is a symlink, refusing to write through it")
    root.mkdir(parents=True, exist_ok=True)
    doc_id = safe_name(doc.id, "")
    if not doc_id or doc_id != doc.id.lower():
        raise CheckFailed(f"{path}: $.id: {doc.id[:80]!r} is not a safe file name")
    digest = content_hash(json.loads(text))
    with _locked(root):
        ids, hashes = _index(root)
        if doc_id in ids:
            raise CheckFailed(f"{path}: $.id: a submission with id {doc_id!r} is already in the store")
        if digest in hashes:
            raise CheckFailed(f"{path}: $: the same content is already in the store")
        target = _safe_dir(root, safe_name(org), safe_name(_system_name(doc))) / f"{doc_id}.json"
        if target.exists() or target.is_symlink():
            raise CheckFailed(f"{target}: already exists")
        write_atomic(target, text)  # the file as submitted, byte for byte: its signature stays valid
    return target


def submissions(store: str | os.PathLike[str] = DEFAULT_STORE) -> list[tuple[str, Path, Document]]:
    """``(org, path, doc)`` for every stored submission that still reads as a valid result file."""

    out = []
    root = Path(store)
    for p in sorted(root.glob("*/*/*.json")):
        if p.is_symlink():
            continue
        try:
            out.append((p.parent.parent.name, p, load(p)))
        except SitebenchError:
            continue
    return out
