"""Parsing mining inputs: header prefix, compact bits, 256-bit targets."""

from __future__ import annotations

from bench.errors import UsageError


def parse_header(text: str) -> bytes:
    """76-byte prefix from hex of a 76- or 80-byte header (wire byte order; an 80-byte nonce is ignored)."""
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raise UsageError("--header is not hex") from None
    if len(raw) not in (76, 80):
        raise UsageError(f"--header must be 76 or 80 bytes, got {len(raw)}")
    return raw[:76]


def bits_to_target(text: str) -> int:
    """Compact ``bits`` (as in a block, e.g. ``1d00ffff``) to the integer target."""
    try:
        bits = int(text, 16)
    except ValueError:
        raise UsageError(f"--bits {text!r} is not hex") from None
    if len(text.strip()) != 8 or bits < 0:
        raise UsageError("--bits must be 8 hex digits, e.g. 1d00ffff")
    exp, mant = bits >> 24, bits & 0x007FFFFF
    if bits & 0x00800000 or mant == 0:
        raise UsageError(f"--bits {text} gives a zero or negative target")
    target = mant << (8 * (exp - 3)) if exp >= 3 else mant >> (8 * (3 - exp))
    if target == 0 or target >= 1 << 256:
        raise UsageError(f"--bits {text} gives a target outside 1..2^256-1")
    return target


def parse_target(text: str) -> int:
    """A 256-bit target as big-endian hex (up to 64 digits), non-zero."""
    t = text.strip().removeprefix("0x")
    if not t or len(t) > 64:
        raise UsageError("--target must be 1 to 64 hex digits")
    try:
        value = int(t, 16)
    except ValueError:
        raise UsageError(f"--target {text!r} is not hex") from None
    if value == 0:
        raise UsageError("--target must not be zero")
    return value
