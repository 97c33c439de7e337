"""CPU sha256d kernel (SIMD, llvmlite) against hashlib: random headers, range edges, real blocks."""

from __future__ import annotations

import os

import numpy as np
import pytest

from workloads.hashing.kernels.cpu.kernel_cpu import scan
from workloads.hashing.spec.reference import header_hash, is_hit
from workloads.hashing.spec.sha256_numpy import sha256d_headers
from workloads.hashing.target import bits_to_target
from workloads.hashing.vectors import BLOCKS


def _h7(prefix: bytes, nonce: int) -> int:
    return int.from_bytes(header_hash(prefix, nonce)[28:], "big")


@pytest.mark.parametrize("start,count", [(0, 1), (12345, 4099), (2 ** 32 - 777, 777), (2 ** 32 - 1, 1)])
def test_h7_matches_hashlib(start: int, count: int) -> None:
    prefix = os.urandom(76)
    _, h7 = scan(prefix, start, count, 0, keep_h7=True)
    assert h7 is not None and h7.shape == (count,)
    assert [int(x) for x in h7] == [_h7(prefix, start + i) for i in range(count)]


@pytest.mark.parametrize("vf", [4, 16])
def test_other_vector_widths_match_hashlib(vf: int) -> None:
    """The 16-lane (AVX-512) and 4-lane (SSE) code, run here whatever the host has."""
    from workloads.hashing.kernels.cpu.kernel_simd import SimdKernel
    from workloads.hashing.spec.sha256_consts import header_params

    prefix = os.urandom(76)
    start, count = 2 ** 32 - 1001, 1001
    params = np.array(header_params(prefix, 0x00FFFFFF), dtype=np.uint32)
    flags, h7 = SimdKernel(vf).run(params, start, count, keep=True)
    assert h7 is not None and [int(x) for x in h7] == [_h7(prefix, start + i) for i in range(count)]
    want = [i for i in range(count) if int.from_bytes(header_hash(prefix, start + i)[28:], "little") <= 0x00FFFFFF]
    assert np.flatnonzero(flags).tolist() == want


def test_numpy_second_implementation_agrees() -> None:
    prefix = os.urandom(76)
    nonces = np.frombuffer(os.urandom(4 * 50), dtype=np.uint32)
    got = sha256d_headers(prefix, nonces)
    for i, n in enumerate(nonces.tolist()):
        assert bytes(got[i]) == header_hash(prefix, n)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: str(b.height))
def test_real_block_nonce_is_the_only_hit_nearby(block) -> None:
    hits, _ = scan(block.prefix, block.nonce - 3000, 6001, bits_to_target(block.bits))
    assert hits.tolist() == [block.nonce]
    assert header_hash(block.prefix, block.nonce)[::-1].hex() == block.hash


@pytest.mark.parametrize("target", [1 << 248, (0x00FFF000 << 224) + 12345, 2 ** 256 - 1])
def test_hits_agree_with_hashlib(target: int) -> None:
    """Easy targets: many candidates pass the early test and the full comparison decides."""
    prefix = os.urandom(76)
    start = 2 ** 32 - 5003
    hits, _ = scan(prefix, start, 5003, target)
    expect = [n for n in range(start, 2 ** 32) if is_hit(prefix, n, target)]
    assert hits.tolist() == expect and len(expect) > 0


def test_range_past_2_32_rejected() -> None:
    with pytest.raises(ValueError):
        scan(os.urandom(76), 2 ** 32 - 1, 2, 0)
