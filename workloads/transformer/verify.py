"""Verification of the cached, batched and compiled paths against recomputation, scaled to the dtype.

Both sides run the same weights in the same dtype, so they differ only by
rounding: different kernels (a 1-row GEMM against an S-row one, the compiled
step against eager) round at different places. The check is norm-wise, as
in backward-error analysis: for every (sequence, position) row of logits,

    ||cached - recomputed||_2 / ||recomputed||_2  <=  c * u * sqrt(n_layers)
    u = eps(dtype) + sqrt(K) * eps(float32)

``eps(dtype)`` is the rounding of every stored activation (TF32's for
float32 matmuls that run in TF32), ``sqrt(K) * eps(float32)`` the
probabilistic error of a float32-accumulated dot product of length K (the
model's longest, ``max(dim, intermediate_size)``), ``sqrt(n_layers)`` the
growth of independent errors through the residual stream, ``c`` =
:data:`SAFETY`. Measured on CPU (torch 2.13, batch 4, prompt 16, 4 decode
steps): llama-3.2-1b bf16 0.021 against a tolerance of 0.125, fp32 1.8e-6
against 1.7e-4; the tiny preset bf16 0.0058 against 0.044. A cache written
one position off, never written by decode, or with one prompt position zeroed
gives 0.14 to 1.0 (tests/workloads/transformer/test_llm_verify.py). Greedy
tokens then agree except at near-ties, which such a bound allows: the tokens
are not compared, the logits that choose them are.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from bench.errors import VerificationError
from workloads.transformer.args import ModelArgs
from workloads.transformer.generate import StepFn, decode_n_tokens, prefill
from workloads.transformer.model import Transformer

#: ``c`` in the bound above.
SAFETY = 4.0


def effective_eps(dtype: torch.dtype, device: torch.device) -> float:
    """Machine epsilon of ``dtype`` as the matmuls on ``device`` round it (TF32 for float32 where enabled)."""
    if dtype == torch.float32 and device.type == "cuda" and torch.backends.cuda.matmul.allow_tf32:
        return 2.0**-10
    return torch.finfo(dtype).eps


def tolerance(dtype: torch.dtype, args: ModelArgs, device: torch.device | str = "cpu") -> float:
    """Largest norm-wise relative difference of logits that rounding in ``dtype`` explains."""
    k = max(args.dim, args.intermediate_size)
    u = effective_eps(dtype, torch.device(device)) + math.sqrt(k) * torch.finfo(torch.float32).eps
    return SAFETY * u * math.sqrt(args.n_layers)


def relative_error(got: Tensor, ref: Tensor) -> float:
    """Largest row-wise ``||got - ref|| / ||ref||`` over the last dimension, in float32."""
    g, r = got.float(), ref.float()
    num = torch.linalg.vector_norm(g - r, dim=-1)
    den = torch.linalg.vector_norm(r, dim=-1).clamp_min(torch.finfo(torch.float32).tiny)
    return float((num / den).max().item())


def compare_logits(got: Tensor, ref: Tensor, model: Transformer, what: str) -> float:
    """The relative error of ``got`` against ``ref``; VerificationError beyond :func:`tolerance`."""
    if got.shape != ref.shape:
        raise VerificationError(f"{what}: shape {tuple(got.shape)} against {tuple(ref.shape)}")
    weight = model.output.weight
    tol = tolerance(weight.dtype, model.args, weight.device)
    err = relative_error(got, ref)
    if not err <= tol:  # NaN fails too
        diff = float((got.float() - ref.float()).abs().max().item())
        raise VerificationError(f"{what} by {err:.3g} relative (max abs {diff:.3g}); "
                                f"{weight.dtype} rounding explains up to {tol:.3g}")
    return err


def check_decode(model: Transformer, step: StepFn, prompt: Tensor, n: int) -> float:
    """Prefill and ``n`` decode steps through ``step`` (the timed one) against an uncached recomputation.

    Needs a cache set up for ``prompt``'s batch and at least ``n`` new
    positions; leaves it holding this sequence. Returns the relative error.
    """
    s = prompt.shape[1]
    token, first = prefill(model, prompt)
    logits = [first.clone()]
    input_pos = torch.tensor([s], device=prompt.device)
    tokens = decode_n_tokens(step, token, input_pos, n, logits=logits)
    seq = torch.cat([prompt, token, *tokens[:-1]], dim=1)
    with model.uncached():
        ref = model(seq, torch.arange(s + n, device=prompt.device), n_logits=n + 1)
    return compare_logits(torch.stack(logits, dim=1), ref, model, "KV-cache decode differs from full recomputation")


def check_prefill(model: Transformer, prompt: Tensor) -> float:
    """Batched prefill into the cache against each sequence alone without it; the relative error."""
    _, batched = prefill(model, prompt)
    with model.uncached():
        alone = torch.cat([prefill(model, prompt[i:i + 1])[1] for i in range(prompt.shape[0])])
    return compare_logits(batched, alone, model, "batched prefill differs from single-sequence prefill")
