"""``llm-decode``: a batch of sequences generating tokens one step at a time from a KV cache."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from bench.errors import VerificationError
from bench.workload import Workload, synchronize
from workloads.transformer.model import PRESETS, random_model


class LlmDecodeWorkload(Workload):
    """Greedy decode with a static KV cache; each step emits ``batch`` tokens."""

    name = "llm-decode"
    unit = "token"
    devices = ("cpu", "cuda")
    default_suite = True
    description = "Llama-class decoder generating tokens from a static KV cache"
    presets = {
        "ci": {"model": "tiny", "batch": 4, "prompt_len": 16, "max_new_tokens": 64, "seed": 0},
        "full": {"model": "tiny", "batch": 8, "prompt_len": 128, "max_new_tokens": 128, "seed": 0},
    }

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        torch.set_grad_enabled(False)
        if params["model"] not in PRESETS:
            raise ValueError(f"unknown model preset {params['model']!r} (known: {', '.join(PRESETS)})")
        self.args = PRESETS[params["model"]]
        self.device = device
        self.batch = int(params["batch"])
        self.prompt_len = int(params["prompt_len"])
        self.max_new = int(params["max_new_tokens"])
        self.model = random_model(self.args, seed=int(params["seed"]), device=device)
        gen = torch.Generator().manual_seed(int(params["seed"]))
        self.prompt = torch.randint(0, self.args.vocab_size, (self.batch, self.prompt_len), generator=gen).to(device)
        self.model.setup_caches(self.batch, self.prompt_len + self.max_new)
        self._prefill()

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
        if not torch.allclose(got.float(), ref.float(), atol=1e-4, rtol=1e-4):
            diff = (got.float() - ref.float()).abs().max().item()
            raise VerificationError(f"KV-cache decode differs from full recomputation by {diff:.3g}")
        self._prefill()

    def step(self) -> int:
        """Generate one token for every sequence; wrap to a fresh prefill when the cache is full."""
        if self.pos >= self.prompt_len + self.max_new:
            self._prefill()
        logits = self.model(self.next_token, torch.tensor([self.pos], device=self.device))
        self.next_token = logits[:, -1:].argmax(-1)
        self.pos += 1
        synchronize(self.device)
        return self.batch
