"""Greedy generation with the static KV cache (used by ``sitebench generate`` and the workloads)."""

from __future__ import annotations

import torch

from workloads.transformer.model import Transformer


@torch.no_grad()
def greedy(model: Transformer, prompt: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
    """Greedy continuation (B, max_new_tokens) of ``prompt`` (B, S); sets up the cache itself."""
    b, s = prompt.shape
    model.setup_caches(b, s + max_new_tokens)
    logits = model(prompt, torch.arange(s, device=prompt.device))
    nxt = logits[:, -1:].argmax(-1)
    out = [nxt]
    for i in range(max_new_tokens - 1):
        logits = model(nxt, torch.tensor([s + i], device=prompt.device))
        nxt = logits[:, -1:].argmax(-1)
        out.append(nxt)
    return torch.cat(out, dim=1)
