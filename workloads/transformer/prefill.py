"""``llm-prefill``: prompt processing, a batch of prompts through the model into the KV cache."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from bench.stats import percentiles
from bench.workload import synchronize
from workloads.transformer.base import LlmWorkload
from workloads.transformer.clock import device_scope
from workloads.transformer.generate import prefill
from workloads.transformer.model import param_count
from workloads.transformer.roofline import peaks
from workloads.transformer.verify import check_prefill

_BASE = {"model": "tiny", "seed": 0, "dtype": "auto", "checkpoint": ""}


class LlmPrefillWorkload(LlmWorkload):
    """Prompt processing: one step is a batch of prompts through the model into the KV cache.

    As a server does, only the last position is projected onto the vocabulary.
    """

    name = "llm-prefill"
    description = "Llama-class prefill of a batch of prompts (compute-bound)"
    decodes = False
    presets: ClassVar[dict[str, dict[str, Any]]] = {"ci": {**_BASE, "batch": 4, "prompt_len": 64},
               "full": {**_BASE, "model": "auto", "batch": 8, "prompt_len": 512}}

    def verify(self) -> None:
        """Batched cached prefill must equal uncached prefill of each sequence alone."""
        with device_scope(self.device):
            check_prefill(self.model, self.prompt)

    def step(self) -> int:
        with device_scope(self.device):
            t0 = time.perf_counter()
            prefill(self.model, self.prompt)
            synchronize(self.device)
            self.times.append(time.perf_counter() - t0)
        return self.p.batch * self.p.prompt_len

    def reset_metrics(self) -> None:
        self.times: list[float] = []

    def flops_per_token(self) -> float:
        """Matmul FLOPs per prompt token: weights, causal attention, the last position's output projection."""
        a, s = self.args, self.p.prompt_len
        tables = (1 if a.tie_embeddings else 2) * a.vocab_size * a.dim
        attn = 4 * a.n_layers * a.n_heads * a.head_dim * (s / 2)  # QK^T and PV, causal average
        return 2 * (param_count(a) - tables) + attn + 2 * a.vocab_size * a.dim / s

    def ceiling(self, device: str) -> float | None:
        """Tokens/s at the device's peak matrix rate for the model's dtype (None when not known)."""
        figures = peaks(device, self.dtype)
        return None if figures is None or figures.flops is None else figures.flops / self.flops_per_token()

    def metrics(self) -> dict[str, Any]:
        if not self.times:
            return {}
        rate = self.p.batch * self.p.prompt_len * len(self.times) / sum(self.times)
        ceiling = self.ceiling(self.device)
        q = percentiles(self.times, (50, 99))
        return {"prefill_tok_s": rate, "ttft_ms": (q["p50"] or 0.0) * 1e3, "ttft_p99_ms": (q["p99"] or 0.0) * 1e3,
                "mfu": rate / ceiling if ceiling else None, "batch": self.p.batch, "code_path": self.code_path}

