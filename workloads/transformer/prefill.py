"""``llm-prefill`` and ``llm-serve``: prompt processing, and whole request batches end to end."""

from __future__ import annotations

import time
from typing import Any, Mapping

import torch

from bench.errors import VerificationError
from bench.workload import Workload, synchronize
from workloads.transformer.clock import TokenClock
from workloads.transformer.common import build_model, preflight, percentile
from workloads.transformer.generate import greedy
from workloads.transformer.model import param_count
from workloads.transformer.roofline import peaks

_BASE = {"model": "tiny", "seed": 0, "dtype": "auto", "checkpoint": ""}


class _LlmBase(Workload):
    unit = "token"
    devices = ("cpu", "cuda")
    default_suite = False

    def preflight(self, device: str, params: Mapping[str, Any]) -> None:
        preflight(device, params)

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        torch.set_grad_enabled(False)
        self.device = device
        self.batch = int(params["batch"])
        self.prompt_len = int(params["prompt_len"])
        self.max_new = int(params.get("max_new_tokens", 1))
        self.model = build_model(device, params, self.batch, self.prompt_len + self.max_new)
        self.args = self.model.args
        gen = torch.Generator().manual_seed(int(params["seed"]))
        self.prompt = torch.randint(0, self.args.vocab_size, (self.batch, self.prompt_len), generator=gen).to(device)
        self.model.setup_caches(self.batch, self.prompt_len + self.max_new)
        self.positions = torch.arange(self.prompt_len, device=device)
        self.clock = TokenClock(device)
        self.reset_metrics()

    def verify(self) -> None:
        """Batched cached prefill must equal uncached prefill of each sequence alone."""
        cached = self.model(self.prompt, self.positions)[:, -1]
        saved, self.model.max_seq = self.model.max_seq, 0
        caches = [layer.attention.kv_cache for layer in self.model.layers]
        for layer in self.model.layers:
            layer.attention.kv_cache = None
        alone = torch.cat([self.model(self.prompt[i:i + 1], self.positions)[:, -1] for i in range(self.batch)])
        for layer, cache in zip(self.model.layers, caches):
            layer.attention.kv_cache = cache
        self.model.max_seq = saved
        tol = 1e-4 if cached.dtype == torch.float32 else 5e-2
        if not torch.allclose(cached.float(), alone.float(), atol=tol, rtol=tol):
            raise VerificationError("batched prefill differs from single-sequence prefill")

    def _flops_per_token(self) -> float:
        a = self.args
        attn = 4 * a.n_layers * a.n_heads * a.head_dim * (self.prompt_len / 2)  # QK^T and PV, causal average
        return 2 * (param_count(a) - a.vocab_size * a.dim) + attn


class LlmPrefillWorkload(_LlmBase):
    """Prompt processing: one step is a batch of prompts through the model into the KV cache."""

    name = "llm-prefill"
    description = "Llama-class prefill of a batch of prompts (compute-bound)"
    presets = {"ci": {**_BASE, "batch": 4, "prompt_len": 64}, "full": {**_BASE, "model": "auto", "batch": 8, "prompt_len": 512}}

    def step(self) -> int:
        t0 = time.perf_counter()
        self.model(self.prompt, self.positions)[:, -1:].argmax(-1)
        synchronize(self.device)
        self.times.append(time.perf_counter() - t0)
        return self.batch * self.prompt_len

    def reset_metrics(self) -> None:
        self.times: list[float] = []

    def ceiling(self, device: str) -> float | None:
        """Tokens/s at the device's peak matrix rate."""
        figures = peaks(device)
        return None if figures is None else figures[1] / self._flops_per_token()

    def metrics(self) -> dict[str, Any]:
        if not self.times:
            return {}
        rate = self.batch * self.prompt_len * len(self.times) / sum(self.times)
        ceiling = self.ceiling(self.device)
        return {"prefill_tok_s": rate, "ttft_ms": percentile(self.times, 50) * 1e3,
                "ttft_p99_ms": percentile(self.times, 99) * 1e3, "mfu": rate / ceiling if ceiling else None,
                "batch": self.batch}


class LlmServeWorkload(_LlmBase):
    """A batch of requests end to end: prefill then ``max_new_tokens`` greedy decode steps."""

    name = "llm-serve"
    description = "Llama-class serving: a batch of requests, prefill plus decode, end to end"
    presets = {"ci": {**_BASE, "batch": 4, "prompt_len": 32, "max_new_tokens": 32},
               "full": {**_BASE, "model": "auto", "batch": 8, "prompt_len": 256, "max_new_tokens": 256}}

    def step(self) -> int:
        """Prefill then decode; per-token stamps, one host wait at the end of the request batch."""
        self.clock.restart()
        nxt = self.model(self.prompt, self.positions)[:, -1:].argmax(-1)
        self.clock.stamp()
        for i in range(self.max_new - 1):
            nxt = self.model(nxt, self.positions.new_tensor([self.prompt_len + i])).argmax(-1)[:, -1:]
            self.clock.stamp()
        synchronize(self.device)
        intervals = self.clock.intervals()
        self.ttft.append(intervals[0])
        self.e2e.append(sum(intervals))
        self.itl.extend(intervals[1:])
        return self.batch * self.max_new

    def reset_metrics(self) -> None:
        self.ttft: list[float] = []
        self.e2e: list[float] = []
        self.itl: list[float] = []

    def metrics(self) -> dict[str, Any]:
        if not self.e2e:
            return {}
        out: dict[str, Any] = {
            "ttft_ms": percentile(self.ttft, 50) * 1e3,
            "e2e_latency_ms": percentile(self.e2e, 50) * 1e3,
            "e2e_latency_p99_ms": percentile(self.e2e, 99) * 1e3,
            "prefill_tok_s": self.batch * self.prompt_len * len(self.ttft) / sum(self.ttft),
            "batch": self.batch,
        }
        if self.itl:
            tpot = sum(self.itl) / len(self.itl)
            out.update(decode_tok_s=self.batch / tpot, tpot_ms=tpot * 1e3,
                       itl_p50_ms=percentile(self.itl, 50) * 1e3, itl_p90_ms=percentile(self.itl, 90) * 1e3,
                       itl_p99_ms=percentile(self.itl, 99) * 1e3)
        return out

    def verify(self) -> None:
        """Batched prefill check, then the served tokens equal an independent greedy run."""
        super().verify()
        ref = greedy(self.model, self.prompt[:1], 4)
        self.model.setup_caches(self.batch, self.prompt_len + self.max_new)
        nxt = self.model(self.prompt, self.positions)[:, -1:].argmax(-1)
        got = [nxt]
        for i in range(3):
            nxt = self.model(nxt, self.positions.new_tensor([self.prompt_len + i])).argmax(-1)[:, -1:]
            got.append(nxt)
        if torch.cat(got, dim=1)[0].tolist() != ref[0].tolist():
            raise VerificationError("served tokens differ from a single-sequence greedy run")
