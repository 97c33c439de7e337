"""numba sha256d kernel against hashlib: random headers, range edges, the genesis block."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from workloads.hashing.kernel_cpu import CHUNK, scan
from workloads.hashing.sha256_numpy import sha256d_headers
from workloads.hashing.sha256d import GENESIS_NONCE, GENESIS_PREFIX, header_hash


def _ref(prefix: bytes, nonce: int) -> bytes:
    return hashlib.sha256(hashlib.sha256(prefix + nonce.to_bytes(4, "little")).digest()).digest()


@pytest.mark.parametrize("start,count", [(0, 1), (12345, CHUNK + 3), (2 ** 32 - 777, 777), (2 ** 32 - 1, 1)])
def test_digests_match_hashlib(start: int, count: int) -> None:
    prefix = os.urandom(76)
    _, digests = scan(prefix, start, count, 0, keep_digests=True)
    assert digests.shape == (count, 32)
    for i in range(count):
        assert bytes(digests[i]) == _ref(prefix, start + i), f"nonce {start + i}"


def test_numpy_second_implementation_agrees() -> None:
    prefix = os.urandom(76)
    nonces = np.frombuffer(os.urandom(4 * 50), dtype=np.uint32)
    got = sha256d_headers(prefix, nonces)
    for i, n in enumerate(nonces.tolist()):
        assert bytes(got[i]) == header_hash(prefix, n)


def test_genesis_nonce_is_the_only_hit_nearby() -> None:
    target = 0xFFFF << 208  # bits 1d00ffff
    hits, _ = scan(GENESIS_PREFIX, GENESIS_NONCE - 3000, 6001, target)
    assert hits.tolist() == [GENESIS_NONCE]
    assert _ref(GENESIS_PREFIX, GENESIS_NONCE)[::-1].hex().startswith("000000000019d6689c")


def test_hits_agree_with_hashlib_at_an_easy_target() -> None:
    prefix = os.urandom(76)
    target = 1 << 248  # about 1 in 256 nonces
    start = 2 ** 32 - 5000
    hits, _ = scan(prefix, start, 5000, target)
    expect = [n for n in range(start, 2 ** 32) if int.from_bytes(_ref(prefix, n), "little") <= target]
    assert hits.tolist() == expect and len(expect) > 0


def test_range_past_2_32_rejected() -> None:
    with pytest.raises(ValueError):
        scan(os.urandom(76), 2 ** 32 - 1, 2, 0)
