"""``sha256``: SHA-256 of N independent messages of a configurable length."""

from __future__ import annotations

import hashlib
import os
from typing import Any, Mapping

import numpy as np

from bench.errors import VerificationError
from bench.workload import Workload
from workloads.hashing.ceiling import compressions_sha256, cpu_compressions_per_s
from workloads.hashing.kernel_batch import sha256_batch


class Sha256Workload(Workload):
    """Batch SHA-256: ``batch`` messages of ``length`` bytes per step."""

    name = "sha256"
    unit = "hash"
    devices = ("cpu",)
    default_suite = True
    description = "SHA-256 of a batch of independent messages (64 B by default, 1 KiB preset)"
    presets = {"ci": {"batch": 32768, "length": 64, "seed": 0},
               "full": {"batch": 262144, "length": 64, "seed": 0},
               "1k": {"batch": 32768, "length": 1024, "seed": 0}}

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        self.batch = int(params["batch"])
        self.length = int(params["length"])
        if self.batch <= 0 or self.length < 0:
            raise ValueError("batch must be positive and length non-negative")
        rng = np.random.default_rng(params.get("seed") or None)
        self.msgs = rng.integers(0, 256, size=(self.batch, self.length), dtype=np.uint8)

    def verify(self) -> None:
        for length in (0, 55, 56, 63, 64, 119, self.length):
            msgs = np.frombuffer(os.urandom(17 * length), np.uint8).reshape(17, length)
            got = sha256_batch(msgs)
            for i in range(17):
                if bytes(got[i]) != hashlib.sha256(msgs[i].tobytes()).digest():
                    raise VerificationError(f"{length}-byte message: SHA-256 differs from hashlib")

    def step(self) -> int:
        sha256_batch(self.msgs)
        return self.batch

    def ceiling(self, device: str) -> float | None:
        """CPU: measured OpenSSL compressions/s over the compressions one message needs."""
        if device != "cpu":
            return None
        return cpu_compressions_per_s() / compressions_sha256(self.length)
