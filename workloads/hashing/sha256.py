"""``sha256``: SHA-256 of N independent messages of a configurable length."""

from __future__ import annotations

import hashlib
import os
from typing import Any, Mapping

import numpy as np

from bench.errors import VerificationError
from bench.workload import Workload, device_kind
from workloads.hashing.ceiling import compressions_sha256, cpu_compressions_per_s
from workloads.hashing.kernel_batch import sha256_batch_scalar as sha256_batch


class Sha256Workload(Workload):
    """Batch SHA-256: ``batch`` messages of ``length`` bytes per step (``gpu_batch`` on CUDA)."""

    name = "sha256"
    unit = "hash"
    devices = ("cpu", "cuda")
    default_suite = True
    description = "SHA-256 of a batch of independent messages (64 B by default, 1 KiB preset)"
    presets = {"ci": {"batch": 32768, "gpu_batch": 1 << 20, "length": 64, "seed": 0},
               "full": {"batch": 262144, "gpu_batch": 1 << 24, "length": 64, "seed": 0},
               "1k": {"batch": 32768, "gpu_batch": 1 << 21, "length": 1024, "seed": 0}}

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        self.device = device
        self.cuda = device_kind(device) == "cuda"
        self.batch = int(params["gpu_batch"] if self.cuda else params["batch"])
        self.length = int(params["length"])
        if self.batch <= 0 or self.length < 0:
            raise ValueError("batch must be positive and length non-negative")
        rng = np.random.default_rng(params.get("seed") or None)
        self.msgs = rng.integers(0, 256, size=(self.batch, self.length), dtype=np.uint8)
        if self.cuda:
            import torch

            if not torch.cuda.is_available():
                raise ValueError(f"{device}: no CUDA GPU is available")
            from workloads.hashing.kernel_triton_batch import pad_words
            self.msgs = pad_words(torch.from_numpy(self.msgs).to(device))

    def _hash(self, msgs: np.ndarray) -> np.ndarray:
        """(N, 32) digests of the rows of ``msgs`` on this workload's device."""
        if self.cuda:
            import torch

            from workloads.hashing.kernel_triton_batch import digests, pad_words, sha256_batch_states
            return digests(sha256_batch_states(pad_words(torch.from_numpy(msgs.copy()).to(self.device))))
        return sha256_batch(msgs)

    def verify(self) -> None:
        """17 random messages of each padding-edge length and of the configured one, against hashlib."""
        for length in (0, 55, 56, 63, 64, 119, self.length):
            msgs = np.frombuffer(os.urandom(17 * length), np.uint8).reshape(17, length)
            got = self._hash(msgs)
            for i in range(17):
                if bytes(got[i]) != hashlib.sha256(msgs[i].tobytes()).digest():
                    raise VerificationError(f"{length}-byte message: SHA-256 differs from hashlib")

    def step(self) -> int:
        if self.cuda:
            import torch

            from workloads.hashing.kernel_triton_batch import sha256_batch_states
            sha256_batch_states(self.msgs)
            torch.cuda.synchronize(self.device)
        else:
            sha256_batch(self.msgs)
        return self.batch

    def ceiling(self, device: str) -> float | None:
        """CPU: measured OpenSSL compressions/s over the compressions one message needs.

        None on CUDA: the batch kernel's instructions per compression are not counted yet.
        """
        if device != "cpu":
            return None
        return cpu_compressions_per_s() / compressions_sha256(self.length)
