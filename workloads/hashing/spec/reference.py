"""hashlib reference for Bitcoin header hashes: the verdict every kernel is checked against."""

from __future__ import annotations

import hashlib


def header_hash(prefix76: bytes, nonce: int) -> bytes:
    """Double SHA-256 of ``prefix76 + nonce`` (little-endian nonce), in hashlib's byte order."""
    return hashlib.sha256(hashlib.sha256(prefix76 + nonce.to_bytes(4, "little")).digest()).digest()


def is_hit(prefix76: bytes, nonce: int, target: int) -> bool:
    """Bitcoin's test: the digest read as a little-endian 256-bit integer is <= ``target``."""
    return int.from_bytes(header_hash(prefix76, nonce), "little") <= target


def target_top_word(target: int) -> int:
    """The target's most significant 32 bits, saturated: what the kernels' early test compares
    bswap(H7) with (the digest's last four bytes are the top of the little-endian integer)."""
    return min(target >> 224, 0xFFFFFFFF)
