"""The one greedy decode loop: ``sitebench generate``, the llm-* steps and their verification all run it.

As in gpt-fast's generate.py: a prefill, a one-token step (the function that
may be compiled) and a loop that keeps the position on the device and
increments it in place, so nothing in the loop waits for the device.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from workloads.transformer.model import Transformer

#: ``step(token (B, 1), input_pos (1,)) -> (next token (B, 1), logits (B, vocab))``
StepFn = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def prefill(model: Transformer, prompt: Tensor) -> tuple[Tensor, Tensor]:
    """Run ``prompt`` (B, S) into the cache from position 0; next token (B, 1) and its logits (B, vocab)."""
    logits = model(prompt, torch.arange(prompt.shape[1], device=prompt.device), n_logits=1)[:, -1]
    return logits.argmax(-1, keepdim=True), logits


def decode_one_token(model: Transformer, token: Tensor, input_pos: Tensor) -> tuple[Tensor, Tensor]:
    """One greedy step from the cache: ``token`` (B, 1) at ``input_pos`` (1,)."""
    logits = model(token, input_pos)[:, -1]
    return logits.argmax(-1, keepdim=True), logits


def step_of(model: Transformer) -> StepFn:
    """The eager one-token step of ``model``."""

    def step(token: Tensor, input_pos: Tensor) -> tuple[Tensor, Tensor]:
        return decode_one_token(model, token, input_pos)

    return step


def decode_n_tokens(step: StepFn, token: Tensor, input_pos: Tensor, n: int,
                    on_token: Callable[[], None] | None = None,
                    logits: list[Tensor] | None = None) -> list[Tensor]:
    """``n`` greedy tokens (each (B, 1)) after ``token``; ``input_pos`` advances in place, on its device.

    ``on_token`` is called after each token is queued (a clock stamp); the
    logits of each step are appended to ``logits`` when given. Outputs are
    cloned: a CUDA-graph replay overwrites its outputs.
    """
    out = []
    for _ in range(n):
        nxt, step_logits = step(token, input_pos)
        token = nxt.clone()
        if logits is not None:
            logits.append(step_logits.clone())
        input_pos += 1
        out.append(token)
        if on_token is not None:
            on_token()
    return out


@torch.no_grad()
def greedy(model: Transformer, prompt: Tensor, max_new_tokens: int, step: StepFn | None = None) -> Tensor:
    """Greedy continuation (B, max_new_tokens) of ``prompt`` (B, S); sets up the cache itself."""
    b, s = prompt.shape
    model.setup_caches(b, s + max_new_tokens)
    token, _ = prefill(model, prompt)
    input_pos = torch.tensor([s], device=prompt.device)
    rest = decode_n_tokens(step or step_of(model), token, input_pos, max_new_tokens - 1)
    return torch.cat([token, *rest], dim=1)
