"""``sha256d``: Bitcoin double SHA-256 over 80-byte headers, sweeping the nonce."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from bench.errors import UsageError, VerificationError
from bench.workload import Workload, device_kind
from workloads.hashing.ceiling import (
    cpu_compressions_per_s,
    cpu_simd_sha256d_ceiling,
    gpu_name,
    gpu_sha256d_ceiling,
)
from workloads.hashing.kernels.cpu.kernel_cpu import scan
from workloads.hashing.kernels.cpu.kernel_simd import kernel
from workloads.hashing.kernels.gpu.scan_cuda import scan_cuda
from workloads.hashing.params import int_param, seed_param
from workloads.hashing.spec.reference import header_hash, is_hit
from workloads.hashing.spec.sha256_numpy import sha256d_headers
from workloads.hashing.vectors import GENESIS

# Bitcoin's genesis block: its nonce must hash under its own target.
GENESIS_PREFIX = GENESIS.prefix
GENESIS_NONCE = GENESIS.nonce
GENESIS_TARGET = 0xFFFF << 208  # bits 1d00ffff

__all__ = ["GENESIS_NONCE", "GENESIS_PREFIX", "GENESIS_TARGET", "Sha256dWorkload", "header_hash"]


class Sha256dWorkload(Workload):
    """Double SHA-256 of 80-byte block headers, ``batch`` nonces per step (``gpu_batch`` on CUDA)."""

    name = "sha256d"
    unit = "hash"
    devices = ("cpu", "cuda")
    default_suite = True
    description = "Bitcoin double SHA-256 over 80-byte headers, sweeping the nonce"
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {"ci": {"batch": 65536, "gpu_batch": 1 << 26, "seed": 0},
               "full": {"batch": 1048576, "gpu_batch": 1 << 30, "seed": 0}}

    def preflight(self, device: str, params: Mapping[str, Any]) -> None:
        """Refuse a batch outside 1..2^32 nonces or a bad seed before anything runs."""
        self._checked(device, params)

    def _checked(self, device: str, params: Mapping[str, Any]) -> tuple[int, int | None]:
        key = "gpu_batch" if device_kind(device) == "cuda" else "batch"
        for other in {"batch", "gpu_batch"} - {key}:
            if other in params:  # the other device's batch is checked too: a bad value is a bad value
                int_param(self.name, params, other, 1, 2 ** 32)
        return int_param(self.name, params, key, 1, 2 ** 32), seed_param(self.name, params)

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        self.device = device
        self.cuda = device_kind(device) == "cuda"
        self.batch, seed = self._checked(device, params)
        if self.cuda:
            import torch
            import triton  # noqa: F401  (CUDA builds of torch ship it; the kernel needs it)

            if not torch.cuda.is_available():
                raise UsageError(f"{device}: no CUDA GPU is available")
        rng = np.random.default_rng(seed)
        self.prefix = rng.bytes(76)
        self.next_nonce = 0
        if self.cuda:
            self.code_path = "cuda:triton"
        else:
            k = kernel()
            self.code_path = f"cpu:simd {({16: 'avx512', 8: 'avx2'}.get(k.vf, 'sse'))} {k.vf}-lane"

    def _scan(self, prefix: bytes, start: int, count: int, target: int) -> np.ndarray:
        if self.cuda:
            return scan_cuda(prefix, start, count, target, self.device)
        return scan(prefix, start, count, target)[0]

    def verify(self) -> None:
        """numpy second implementation, then the device kernel, against hashlib.

        The kernel's H7 (the word its early test reads) for every nonce of a random range and of
        the range ending at 2^32 - 1, its hits at an easy target there, and the genesis nonce.
        """
        self._verify_numpy()
        target = 1 << 249  # about 1 nonce in 128 is a hit
        start = int(np.frombuffer(os.urandom(4), dtype=np.uint32)[0]) % (2 ** 32 - 10000)
        for lo, n in ((start, 9999), (2 ** 32 - 4097, 4097)):
            got = self._h7(lo, n)
            for i in range(n):
                if int(got[i]) != int.from_bytes(header_hash(self.prefix, lo + i)[28:], "big"):
                    raise VerificationError(f"nonce {lo + i}: {self.device} kernel's H7 differs from hashlib")
            want = [x for x in range(lo, lo + n) if is_hit(self.prefix, x, target)]
            if self._scan(self.prefix, lo, n, target).tolist() != want:
                raise VerificationError(f"nonces {lo}..{lo + n - 1}: {self.device} kernel hits differ from hashlib")
        if self._scan(GENESIS_PREFIX, GENESIS_NONCE - 100, 200, GENESIS_TARGET).tolist() != [GENESIS_NONCE]:
            raise VerificationError(f"{self.device} kernel does not find the genesis block nonce")

    def _h7(self, start: int, count: int) -> np.ndarray:
        """H7 of the second hash for each nonce, from the device kernel."""
        if self.cuda:
            import torch

            from workloads.hashing.kernels.gpu.kernel_triton import candidates
            out = torch.zeros(count, dtype=torch.int32, device=self.device)
            candidates(self.prefix, start, count, 0, self.device, h7=out)
            return out.cpu().numpy().view(np.uint32)
        h7 = scan(self.prefix, start, count, 0, keep_h7=True)[1]
        assert h7 is not None
        return h7

    def _verify_numpy(self) -> None:
        nonces = np.concatenate([
            np.frombuffer(os.urandom(4 * 61), dtype=np.uint32),
            np.array([0, 1, 0xFFFFFFFF], dtype=np.uint32),
        ])
        got = sha256d_headers(self.prefix, nonces)
        for i, nonce in enumerate(nonces.tolist()):
            if bytes(got[i]) != header_hash(self.prefix, nonce):
                raise VerificationError(f"nonce {nonce}: double SHA-256 differs from hashlib")
        genesis = bytes(sha256d_headers(GENESIS_PREFIX, np.array([GENESIS_NONCE], dtype=np.uint32))[0])
        if genesis[::-1].hex() != GENESIS.hash:
            raise VerificationError("genesis block header does not hash to the genesis block hash")

    def metrics(self) -> dict[str, Any]:
        """Which code produced the figures: ``code_path``."""
        return {"code_path": self.code_path}

    def step(self) -> int:
        start = self.next_nonce
        if start + self.batch > 2 ** 32:
            start = 0
        self._scan(self.prefix, start, self.batch, 0)
        self.next_nonce = start + self.batch
        return self.batch

    def ceiling(self, device: str) -> float | None:
        """CPU: the larger of the measured OpenSSL compressions/s over 2 (two compressions per nonce
        with midstate) and the SIMD kernel's issue bound (a multi-lane kernel can outrun OpenSSL's
        one-message-at-a-time rate, even with SHA-NI, so the OpenSSL figure alone is no ceiling).

        CUDA: the datasheet's integer lanes x clock over the kernel's instructions per double hash.
        """
        if device_kind(device) == "cuda":
            name = gpu_name(device)
            return None if name is None else gpu_sha256d_ceiling(name)
        if device != "cpu":
            return None
        return max(cpu_compressions_per_s() / 2, cpu_simd_sha256d_ceiling() or 0.0)
