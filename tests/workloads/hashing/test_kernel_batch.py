"""Batch SHA-256 kernel against hashlib (random, fresh each run) and NIST vectors."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from workloads.hashing.kernel_batch import sha256_batch


@pytest.mark.parametrize("length", [0, 1, 55, 56, 63, 64, 65, 119, 120, 1024])
def test_random_messages_match_hashlib(length: int) -> None:
    n = 37
    msgs = np.frombuffer(os.urandom(n * length), np.uint8).reshape(n, length)
    got = sha256_batch(msgs)
    for i in range(n):
        assert bytes(got[i]) == hashlib.sha256(msgs[i].tobytes()).digest()


@pytest.mark.parametrize("msg,digest", [
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
])
def test_nist_vectors(msg: bytes, digest: str) -> None:
    got = sha256_batch(np.frombuffer(msg, np.uint8).reshape(1, len(msg)))
    assert bytes(got[0]).hex() == digest


def test_hashlib_fallback_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    import workloads.hashing.kernel_batch as kb

    monkeypatch.setattr(kb, "HAVE_NUMBA", False)
    msgs = np.frombuffer(os.urandom(5 * 70), np.uint8).reshape(5, 70)
    assert [bytes(d) for d in kb.sha256_batch(msgs)] == [hashlib.sha256(m.tobytes()).digest() for m in msgs]
