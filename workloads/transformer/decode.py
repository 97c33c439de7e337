"""``llm-decode``: a batch of sequences generating tokens one step at a time from a KV cache."""

from __future__ import annotations

import time
from typing import Any, Mapping

import torch

from bench.errors import UsageError, VerificationError
from bench.workload import Workload, synchronize
from workloads.transformer.clock import TokenClock
from workloads.transformer.common import build_model, preflight, percentile, weight_bytes
from workloads.transformer.roofline import peaks


class LlmDecodeWorkload(Workload):
    """Greedy decode with a static KV cache.

    Each step emits ``step_tokens`` tokens for every sequence of the batch with
    no host synchronisation between tokens (per-token times come from CUDA
    events on a GPU), and waits for the device once at its end.
    """

    name = "llm-decode"
    unit = "token"
    devices = ("cpu", "cuda")
    default_suite = True
    description = "Llama-class decoder generating tokens from a static KV cache"
    presets = {
        "ci": {"model": "tiny", "batch": 4, "prompt_len": 16, "max_new_tokens": 64, "seed": 0,
               "dtype": "auto", "checkpoint": "", "compile": True, "step_tokens": 8},
        "full": {"model": "auto", "batch": 8, "prompt_len": 128, "max_new_tokens": 128, "seed": 0,
                 "dtype": "auto", "checkpoint": "", "compile": True, "step_tokens": 8},
    }

    def preflight(self, device: str, params: Mapping[str, Any]) -> None:
        preflight(device, params)

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        torch.set_grad_enabled(False)
        self.device = device
        self.batch = int(params["batch"])
        self.prompt_len = int(params["prompt_len"])
        self.max_new = int(params["max_new_tokens"])
        self.step_tokens = int(params.get("step_tokens", 1))
        if self.step_tokens < 1:
            raise UsageError(f"step_tokens must be >= 1, got {self.step_tokens}")
        self.clock = TokenClock(device)
        self.model = build_model(device, params, self.batch, self.prompt_len + self.max_new)
        self.args = self.model.args
        gen = torch.Generator().manual_seed(int(params["seed"]))
        self.prompt = torch.randint(0, self.args.vocab_size, (self.batch, self.prompt_len), generator=gen).to(device)
        self.model.setup_caches(self.batch, self.prompt_len + self.max_new)
        self.decode_one = self._eager_decode
        if device.startswith("cuda") and bool(params.get("compile", True)):
            # CUDA graphs through reduce-overhead; the eager path stays for CPU and for failures.
            self.decode_one = torch.compile(self._eager_decode, mode="reduce-overhead", fullgraph=True)
        self.reset_metrics()
        self._prefill()

    def _eager_decode(self, token: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        return self.model(token, pos)[:, -1:].argmax(-1)

    def _decode(self, token: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        try:
            return self.decode_one(token, pos).clone()  # CUDA-graph outputs are overwritten by the next replay
        except Exception:  # compile unavailable here (no compiler, unsupported op): run eager
            if self.decode_one is self._eager_decode:
                raise
            self.decode_one = self._eager_decode
            return self._eager_decode(token, pos)

    def _prefill(self) -> None:
        logits = self.model(self.prompt, torch.arange(self.prompt_len, device=self.device))
        self.next_token = logits[:, -1:].argmax(-1)
        self.pos = self.prompt_len

    def verify(self) -> None:
        """KV-cache decode must give the same logits as recomputing the whole sequence."""
        tokens = [self.prompt]
        cached = []
        for _ in range(4):
            logits = self.model(self.next_token, torch.tensor([self.pos], device=self.device))
            cached.append(logits[:, -1])
            tokens.append(self.next_token)
            self.next_token = logits[:, -1:].argmax(-1)
            self.pos += 1
        seq = torch.cat(tokens, dim=1)
        saved, self.model.max_seq = self.model.max_seq, 0
        caches = [layer.attention.kv_cache for layer in self.model.layers]
        for layer in self.model.layers:
            layer.attention.kv_cache = None
        full = self.model(seq, torch.arange(seq.shape[1], device=self.device))
        for layer, cache in zip(self.model.layers, caches):
            layer.attention.kv_cache = cache
        self.model.max_seq = saved
        ref = full[:, self.prompt_len : self.prompt_len + 4]
        got = torch.stack(cached, dim=1)
        tol = 1e-4 if got.dtype == torch.float32 else 5e-2
        if not torch.allclose(got.float(), ref.float(), atol=tol, rtol=tol):
            diff = (got.float() - ref.float()).abs().max().item()
            raise VerificationError(f"KV-cache decode differs from full recomputation by {diff:.3g}")
        self._prefill()

    def step(self) -> int:
        """Generate ``step_tokens`` tokens for every sequence, wrapping to a fresh prefill when the cache is full."""
        self.clock.restart()
        produced, prefilled_at = 0, None
        for _ in range(self.step_tokens):
            if self.pos >= self.prompt_len + self.max_new:
                self._prefill()
                self.clock.stamp()
                prefilled_at = len(self.clock.marks) - 2
            self.next_token = self._decode(self.next_token, torch.tensor([self.pos], device=self.device))
            self.pos += 1
            produced += self.batch
            self.clock.stamp()
        synchronize(self.device)  # the one wait of the step: a step is synchronous by contract
        intervals = self.clock.intervals()
        if prefilled_at is not None:
            self.ttft.append(intervals.pop(prefilled_at))
        self.itl.extend(intervals)
        return produced

    def reset_metrics(self) -> None:
        self.itl: list[float] = []
        self.ttft: list[float] = []

    def _bytes_per_step(self) -> float:
        a = self.args
        avg_seq = self.prompt_len + self.max_new / 2
        kv = 2 * a.n_layers * self.batch * a.n_kv_heads * avg_seq * a.head_dim * self.model.output.weight.element_size()
        return weight_bytes(self.model) + kv

    def ceiling(self, device: str) -> float | None:
        """Tokens/s if every step only streamed weights and KV cache at peak bandwidth."""
        figures = peaks(device)
        return None if figures is None else self.batch * figures[0] / self._bytes_per_step()

    def metrics(self) -> dict[str, Any]:
        if not self.itl:
            return {}
        tpot = sum(self.itl) / len(self.itl)
        ceiling = self.ceiling(self.device)
        return {
            "decode_tok_s": self.batch / tpot,
            "tpot_ms": tpot * 1e3,
            "itl_p50_ms": percentile(self.itl, 50) * 1e3,
            "itl_p90_ms": percentile(self.itl, 90) * 1e3,
            "itl_p99_ms": percentile(self.itl, 99) * 1e3,
            "ttft_ms": percentile(self.ttft, 50) * 1e3 if self.ttft else None,
            "mbu": self.batch / tpot / ceiling if ceiling else None,
            "batch": self.batch,
            "steps": len(self.itl),
        }
