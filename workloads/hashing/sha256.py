"""``sha256``: SHA-256 of N independent messages of a configurable length."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from bench.errors import UsageError, VerificationError
from bench.workload import Workload, device_kind
from workloads.hashing.ceiling import cpu_sha256_compressions_per_s, gpu_name, gpu_sha256_ceiling
from workloads.hashing.host.cpu import has_sha_ni, host_vf
from workloads.hashing.kernels.cpu import batch_cpu
from workloads.hashing.params import choice_param, int_param, seed_param
from workloads.hashing.spec.sha256_consts import compressions_sha256

KERNELS = ("auto", "sha-ni", "simd", "simd16", "simd8", "simd4", "scalar")
MAX_LENGTH = 1 << 20  # bytes per message
MAX_CPU_BYTES = 1 << 32  # batch x length on the host
MAX_GPU_BYTES = 1 << 34  # gpu_batch x padded length on the device
EDGE_LENGTHS = (0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 300)  # every padding case, 1-3 tail blocks


def _digests(msgs: np.ndarray) -> list[bytes]:
    return [hashlib.sha256(row.tobytes()).digest() for row in msgs]


class Sha256Workload(Workload):
    """Batch SHA-256: ``batch`` messages of ``length`` bytes per step (``gpu_batch`` on CUDA).

    ``kernel`` picks the CPU code: ``auto`` races those this CPU runs (SHA-NI, SIMD) and keeps the
    fastest; ``sha-ni``, ``simd`` (the host's width), ``simd16``/``simd8``/``simd4`` or ``scalar``
    (numba) force one. ``metrics()["code_path"]`` says which ran.
    """

    name = "sha256"
    unit = "hash"
    devices = ("cpu", "cuda")
    default_suite = True
    description = "SHA-256 of a batch of independent messages (64 B by default, 1 KiB preset)"
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "ci": {"batch": 131072, "gpu_batch": 1 << 20, "length": 64, "seed": 0, "kernel": "auto"},
        "full": {"batch": 1048576, "gpu_batch": 1 << 24, "length": 64, "seed": 0, "kernel": "auto"},
        "1k": {"batch": 32768, "gpu_batch": 1 << 21, "length": 1024, "seed": 0, "kernel": "auto"},
    }

    def preflight(self, device: str, params: Mapping[str, Any]) -> None:
        """Refuse parameters out of range, or a kernel this CPU cannot run, before anything is allocated."""
        self._checked(device, params)

    def _checked(self, device: str, params: Mapping[str, Any]) -> tuple[int, int, int | None, str]:
        """(batch, length, seed, kernel) after the checks; raises UsageError naming the parameter."""
        cuda = device_kind(device) == "cuda"
        length = int_param(self.name, params, "length", 0, MAX_LENGTH)
        key = "gpu_batch" if cuda else "batch"
        other = "batch" if cuda else "gpu_batch"
        if other in params:  # the other device's batch is checked too: a bad value is a bad value
            int_param(self.name, params, other, 1, 1 << 31)
        batch = int_param(self.name, params, key, 1, 1 << 31)
        size = batch * (compressions_sha256(length) * 64 if cuda else max(length, 1))
        if size > (MAX_GPU_BYTES if cuda else MAX_CPU_BYTES):
            raise UsageError(f"{self.name}: {key}={batch} x length={length} needs {size} bytes of messages, "
                             f"more than {MAX_GPU_BYTES if cuda else MAX_CPU_BYTES}")
        kernel = choice_param(self.name, params, "kernel", KERNELS, "auto")
        if cuda and kernel != "auto":
            raise UsageError(f"{self.name}: kernel={kernel!r} is a CPU kernel; on {device} use auto")
        if kernel == "sha-ni":
            if not has_sha_ni():
                raise UsageError(f"{self.name}: kernel='sha-ni' but this CPU has no SHA extensions")
        return batch, length, seed_param(self.name, params), kernel

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        self.device = device
        self.cuda = device_kind(device) == "cuda"
        self.batch, self.length, seed, kernel = self._checked(device, params)
        rng = np.random.default_rng(seed)
        msgs = rng.integers(0, 256, size=(self.batch, self.length), dtype=np.uint8)
        # Rows checked against hashlib in verify(): both ends of the batch and a random sample.
        picks = np.concatenate([np.arange(min(8, self.batch)), np.arange(max(0, self.batch - 8), self.batch),
                                rng.integers(0, self.batch, size=min(64, self.batch))])
        self.picks = np.unique(picks)
        self.picked = msgs[self.picks].copy()
        self.choice: str | None = None
        if self.cuda:
            import torch

            if not torch.cuda.is_available():
                raise UsageError(f"{device}: no CUDA GPU is available")
            from workloads.hashing.kernels.gpu.kernel_triton_batch import pad_words

            self.words = pad_words(torch.from_numpy(msgs).to(device))
            self.code_path = "cuda:triton"
            return
        self.msgs = msgs
        self.out = np.empty((self.batch, 32), dtype=np.uint8)
        self.run, self.code_path = self._cpu_kernel(kernel)

    def _cpu_kernel(self, kernel: str) -> tuple[Callable[[np.ndarray, np.ndarray], None], str]:
        """(run(msgs, out), code path) of the chosen CPU kernel."""
        if kernel == "scalar":
            return self._scalar, "cpu:scalar fallback"
        try:
            if kernel == "auto":
                k, self.choice = batch_cpu.best_kernel(self.length)
            elif kernel == "sha-ni":
                k = batch_cpu.kernel("sha-ni", batch_cpu.SHA_NI_INTERLEAVE)
            else:
                k = batch_cpu.kernel("simd", int(kernel[4:]) if kernel != "simd" else host_vf())
        except Exception as exc:  # llvmlite cannot compile for this host: the numba kernel does the work
            if kernel != "auto":
                raise
            self.choice = f"no compiled kernel ({type(exc).__name__}: {exc})"
            return self._scalar, "cpu:scalar fallback"
        return k.run_into, k.code_path

    @staticmethod
    def _scalar(msgs: np.ndarray, out: np.ndarray) -> None:
        from workloads.hashing.kernels.cpu.kernel_batch import sha256_batch_scalar

        out[:] = sha256_batch_scalar(msgs)

    def _hash(self, msgs: np.ndarray) -> np.ndarray:
        """(N, 32) digests of the rows of ``msgs`` through this workload's kernel."""
        if self.cuda:
            import torch

            from workloads.hashing.kernels.gpu.kernel_triton_batch import (
                digests,
                pad_words,
                sha256_batch_states,
            )
            return digests(sha256_batch_states(pad_words(torch.from_numpy(msgs.copy()).to(self.device))))
        out = np.empty((msgs.shape[0], 32), dtype=np.uint8)
        self.run(np.ascontiguousarray(msgs), out)
        return out

    def verify(self) -> None:
        """The kernel against hashlib: 37 random messages of every padding edge length and of the
        configured one (a partial group of streams or lanes included), then the whole production
        batch hashed as a step hashes it, checked at both ends and at 64 random rows."""
        for length in sorted({*EDGE_LENGTHS, self.length}):
            msgs = np.frombuffer(os.urandom(37 * length), np.uint8).reshape(37, length)
            if [bytes(d) for d in self._hash(msgs)] != _digests(msgs):
                raise VerificationError(f"{length}-byte messages: SHA-256 differs from hashlib")
        got = self._production_digests()
        for row, msg, digest in zip(self.picks.tolist(), self.picked, got):
            if bytes(digest) != hashlib.sha256(msg.tobytes()).digest():
                raise VerificationError(f"row {row} of the {self.batch}-message batch: SHA-256 differs from hashlib")

    def _production_digests(self) -> np.ndarray:
        """Digests of the sampled rows from one full step over the production batch."""
        if self.cuda:
            import torch

            from workloads.hashing.kernels.gpu.kernel_triton_batch import (
                digests,
                sha256_batch_states,
            )
            states = sha256_batch_states(self.words)
            return digests(states[:, torch.from_numpy(self.picks).to(self.device)])
        self.run(self.msgs, self.out)
        return self.out[self.picks]

    def step(self) -> int:
        if self.cuda:
            import torch

            from workloads.hashing.kernels.gpu.kernel_triton_batch import sha256_batch_states
            sha256_batch_states(self.words)
            torch.cuda.synchronize(self.device)
        else:
            self.run(self.msgs, self.out)
        return self.batch

    def metrics(self) -> dict[str, Any]:
        """Which code produced the figures (``code_path``) and, with ``kernel=auto``, the race that chose it."""
        return {"code_path": self.code_path, "kernel_choice": self.choice}

    def teardown(self) -> None:
        for attr in ("msgs", "out", "words"):
            self.__dict__.pop(attr, None)

    def ceiling(self, device: str) -> float | None:
        """Messages/s at the machine's limit: the CPU's issue bound (SHA-NI or SIMD, the larger) or
        the GPU's integer lanes over the batch kernel's counted instructions, over the compressions
        one message needs."""
        if device_kind(device) == "cuda":
            name = gpu_name(device)
            return None if name is None else gpu_sha256_ceiling(name, self.length)
        if device != "cpu":
            return None
        rate = cpu_sha256_compressions_per_s()
        return None if rate is None else rate / compressions_sha256(self.length)
