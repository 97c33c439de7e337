"""Ed25519 signatures over canonical JSON of a result file.

Canonical form: sorted keys, no insignificant whitespace, UTF-8, with the
top-level ``signature`` block left out. The key id is the first 16 hex digits
of the SHA-256 of the raw 32-byte public key.

Key files are PEM with a short text preamble that names the organisation the
key belongs to (``org: NAME``); PEM readers skip it. Signing writes that org
into ``submitter.org``, so the organisation is part of the signed content.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Final

from bench.errors import CheckFailed, UsageError
from bench.record import Document, Signature, Submitter, dumps

ALG: Final = "ed25519"
_ORG_PREFIX = "org:"
MAX_ORG_CHARS = 100


class _Literal(str):
    """A JSON number kept exactly as written, so a changed digit is a changed document."""


def _canon(o: Any) -> str:
    if isinstance(o, _Literal):
        return str(o)
    if isinstance(o, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + _canon(o[k]) for k in sorted(o)) + "}"
    if isinstance(o, list):
        return "[" + ",".join(_canon(v) for v in o) + "]"
    return json.dumps(o, ensure_ascii=False, allow_nan=False)


def canonical_bytes(doc: dict[str, Any]) -> bytes:
    """The bytes that are signed: ``doc`` without ``signature``, canonical JSON.

    Sorted keys, no insignificant whitespace; floats as Python's shortest repr
    (what ``sitebench`` writes), or verbatim when parsed by :func:`parse_exact`.
    """
    return _canon({k: v for k, v in doc.items() if k != "signature"}).encode("utf-8")


def parse_exact(text: str) -> Any:
    """Parse JSON keeping every non-integer number's literal text (for verification)."""
    return json.loads(text, parse_float=_Literal)


def key_id(public_raw: bytes) -> str:
    """Short id of a raw public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def check_org(org: str) -> str:
    """``org`` stripped; one printable line of at most MAX_ORG_CHARS characters.

    Raises:
        UsageError: otherwise.
    """
    o = org.strip()
    if not o or len(o) > MAX_ORG_CHARS or not o.isprintable():
        raise UsageError(f"--org {org[:40]!r}: one printable line of 1 to {MAX_ORG_CHARS} characters")
    return o


def _preamble(org: str | None) -> bytes:
    lines = ["# sitebench Ed25519 key"] + ([f"{_ORG_PREFIX} {org}"] if org else [])
    return ("\n".join(lines) + "\n").encode("utf-8")


def key_org(path: str | os.PathLike[str]) -> str | None:
    """The organisation named in a key file's preamble (``org: NAME``), or None."""
    try:
        text = Path(path).read_bytes()[:4096].decode("utf-8", "replace")
    except OSError:
        return None
    for line in text.split("-----BEGIN", 1)[0].splitlines():
        if line.lower().startswith(_ORG_PREFIX):
            return line[len(_ORG_PREFIX):].strip() or None
    return None


def generate_keypair(private_path: str | os.PathLike[str], public_path: str | os.PathLike[str],
                     org: str | None = None) -> str:
    """Write a new PEM private key (mode 0600) and PEM public key, both naming ``org``; return the key id."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    org = check_org(org) if org is not None else None
    priv, pub = Path(private_path), Path(public_path)
    for p in (priv, pub):
        if p.exists():
            raise UsageError(f"{p}: already exists, not overwriting a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(priv, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise UsageError(f"{priv}: cannot write ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as f:
        f.write(_preamble(org) + pem)
    public = key.public_key()
    pub.write_bytes(_preamble(org) + public.public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    return key_id(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _load_private(path: str | os.PathLike[str]) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"{path}: not a readable unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{path}: not an Ed25519 private key")
    return key


def check_private_key(path: str | os.PathLike[str]) -> None:
    """Raise UsageError now, before a long run, when ``path`` is not a usable signing key."""
    _load_private(path)


def load_public(path: str | os.PathLike[str]) -> Any:
    """An Ed25519 public key from a PEM file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"{path}: not a readable PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path}: not an Ed25519 public key")
    return key


def _raw(public: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign_document(doc: Document, private_path: str | os.PathLike[str]) -> Document:
    """``doc`` with a signature (added or replaced) made with the key at ``private_path``.

    The key's organisation (its preamble, or the ``.pub`` beside it) goes into
    ``submitter.org`` before signing.

    Raises:
        UsageError: unusable key, or a file that names another organisation.
    """

    key = _load_private(private_path)
    org = key_org(private_path) or key_org(Path(private_path).with_suffix(".pub"))
    if org:
        sub = doc.submitter or Submitter()
        if sub.org not in (None, "", org):
            raise UsageError(f"{private_path}: key belongs to {org!r} but the file's submitter.org is {sub.org!r}")
        doc = doc.model_copy(update={"submitter": sub.model_copy(update={"org": org})})
    unsigned = doc.model_copy(update={"signature": None})
    # sign exactly what will be written
    value = key.sign(canonical_bytes(json.loads(dumps(unsigned))))
    sig = Signature(alg=ALG, key_id=key_id(_raw(key.public_key())), value=base64.b64encode(value).decode("ascii"))
    return doc.model_copy(update={"signature": sig})


def _trusted(keys_dir: str | os.PathLike[str]) -> list[tuple[str, Any, Path]]:
    d = Path(keys_dir)
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.iterdir()):
        if p.suffix in (".pem", ".pub") and p.is_file():
            try:
                pub = load_public(p)
            except UsageError:
                continue
            out.append((key_id(_raw(pub)), pub, p))
    return out


def trusted_keys(keys_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``{key_id: public key}`` for every ``*.pem``/``*.pub`` in ``keys_dir`` (missing dir: none)."""
    return {kid: pub for kid, pub, _ in _trusted(keys_dir)}


def trusted_orgs(keys_dir: str | os.PathLike[str]) -> dict[str, str]:
    """``{key_id: organisation}`` for the trusted keys whose file names their organisation."""
    return {kid: org for kid, _, p in _trusted(keys_dir) if (org := key_org(p))}


def verify_document(text: str, keys: dict[str, Any]) -> str:
    """Check the signature of a result file's ``text`` against ``keys``; return the key id.

    The numbers are verified exactly as written: a digit changed past a float's
    precision fails. (A key written twice is refused by the reader before this.)

    Raises:
        CheckFailed: unsigned, unknown key, malformed or wrong signature.
    """
    from cryptography.exceptions import InvalidSignature

    try:
        doc = parse_exact(text)
    except (ValueError, RecursionError):
        raise CheckFailed("$: not valid JSON") from None
    sig = doc.get("signature") if isinstance(doc, dict) else None
    if not isinstance(sig, dict):
        raise CheckFailed("$.signature: file is not signed")
    if set(sig) != {"alg", "key_id", "value"}:
        raise CheckFailed("$.signature: expected exactly alg, key_id and value")
    if sig.get("alg") != ALG:
        raise CheckFailed(f"$.signature.alg: expected {ALG!r}, found {str(sig.get('alg'))[:40]!r}")
    kid = sig.get("key_id")
    if not isinstance(kid, str) or kid not in keys:
        raise CheckFailed(f"$.signature.key_id: key {str(kid)[:40]!r} is not a trusted key")
    try:
        value = base64.b64decode(str(sig.get("value")), validate=True)
        body = canonical_bytes(doc)
    except (ValueError, TypeError):
        raise CheckFailed("$.signature.value: not valid base64 / document not canonicalisable") from None
    try:
        keys[kid].verify(value, body)
    except InvalidSignature:
        raise CheckFailed("$.signature.value: signature does not match the document (altered after signing?)") from None
    return str(kid)
