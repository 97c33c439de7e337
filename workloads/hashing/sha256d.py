"""``sha256d``: Bitcoin double SHA-256 over 80-byte headers, sweeping the nonce."""

from __future__ import annotations

import hashlib
import os
from typing import Any, Mapping

import numpy as np

from bench.errors import VerificationError
from bench.workload import Workload
from workloads.hashing.ceiling import cpu_compressions_per_s
from workloads.hashing.kernel_cpu import scan
from workloads.hashing.sha256_numpy import sha256d_headers

# Bitcoin's genesis block header: its nonce 2083236893 must hash under its own target.
GENESIS_PREFIX = bytes.fromhex(
    "01000000" + "00" * 32
    + "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a"
    + "29ab5f49" + "ffff001d"
)
GENESIS_NONCE = 2083236893


def header_hash(prefix76: bytes, nonce: int) -> bytes:
    """hashlib's double SHA-256 of one header (the reference)."""
    return hashlib.sha256(hashlib.sha256(prefix76 + nonce.to_bytes(4, "little")).digest()).digest()


class Sha256dWorkload(Workload):
    """Double SHA-256 of 80-byte block headers, ``batch`` nonces per step."""

    name = "sha256d"
    unit = "hash"
    devices = ("cpu",)
    default_suite = True
    description = "Bitcoin double SHA-256 over 80-byte headers, sweeping the nonce"
    presets = {"ci": {"batch": 65536, "seed": 0}, "full": {"batch": 1048576, "seed": 0}}

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        self.batch = int(params["batch"])
        if self.batch <= 0:
            raise ValueError("batch must be positive")
        rng = np.random.default_rng(params.get("seed") or None)
        self.prefix = rng.bytes(76)
        self.next_nonce = 0

    def verify(self) -> None:
        nonces = np.concatenate([
            np.frombuffer(os.urandom(4 * 61), dtype=np.uint32),
            np.array([0, 1, 0xFFFFFFFF], dtype=np.uint32),
        ])
        got = sha256d_headers(self.prefix, nonces)
        for i, nonce in enumerate(nonces.tolist()):
            if bytes(got[i]) != header_hash(self.prefix, nonce):
                raise VerificationError(f"nonce {nonce}: double SHA-256 differs from hashlib")
        start = int(np.frombuffer(os.urandom(4), dtype=np.uint32)[0]) % (2 ** 32 - 1000)
        for lo in (start, 2 ** 32 - 1000):
            _, kd = scan(self.prefix, lo, 1000, 0, keep_digests=True)
            for i in range(0, 1000, 37):
                if bytes(kd[i]) != header_hash(self.prefix, lo + i):
                    raise VerificationError(f"nonce {lo + i}: compiled kernel differs from hashlib")
        hits, _ = scan(GENESIS_PREFIX, GENESIS_NONCE - 100, 200, 0xFFFF << 208)
        if hits.tolist() != [GENESIS_NONCE]:
            raise VerificationError("compiled kernel does not find the genesis block nonce")
        genesis = bytes(sha256d_headers(GENESIS_PREFIX, np.array([GENESIS_NONCE], dtype=np.uint32))[0])
        if genesis[::-1].hex() != "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f":
            raise VerificationError("genesis block header does not hash to the genesis block hash")

    def step(self) -> int:
        start = self.next_nonce
        if start + self.batch > 2 ** 32:
            start = 0
        scan(self.prefix, start, self.batch, 0)
        self.next_nonce = start + self.batch
        return self.batch

    def ceiling(self, device: str) -> float | None:
        """CPU: measured OpenSSL compressions/s over 2 (two compressions per nonce with midstate)."""
        if device != "cpu":
            return None
        return cpu_compressions_per_s() / 2
