"""Rotary position embeddings as Hugging Face Llama applies them (rotate-half pairing, llama3 scaling)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from workloads.transformer.args import ModelArgs


def rope_table(args: ModelArgs, device: torch.device | str | None = None) -> Tensor:
    """(max_seq_len, head_dim / 2, 2) cos/sin table in float32."""
    half = args.head_dim // 2
    freqs = 1.0 / (args.rope_theta ** (torch.arange(0, half, device=device, dtype=torch.float32) / half))
    if args.rope_scaling is not None:
        freqs = _llama3_scale(freqs, *args.rope_scaling)
    angles = torch.outer(torch.arange(args.max_seq_len, device=device, dtype=torch.float32), freqs)
    return torch.stack([angles.cos(), angles.sin()], dim=-1)


def _llama3_scale(freqs: Tensor, factor: float, low: float, high: float, original: int) -> Tensor:
    """Llama 3.1 ``rope_scaling`` (rope_type llama3), as in HF ``_compute_llama3_parameters``."""
    wavelen = 2 * math.pi / freqs
    low_wl, high_wl = original / low, original / high
    scaled = torch.where(wavelen > low_wl, freqs / factor, freqs)
    smooth = (original / wavelen - low) / (high - low)
    mid = (1 - smooth) * scaled / factor + smooth * scaled
    is_mid = (wavelen >= high_wl) & (wavelen <= low_wl)
    return torch.where(is_mid, mid, scaled)


def apply_rope(x: Tensor, table: Tensor) -> Tensor:
    """Rotate (B, S, H, D) by the (S, D/2, 2) table, pairing the two halves as HF Llama does."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half].float(), x[..., half:].float()
    cos, sin = table[..., 0][None, :, None, :], table[..., 1][None, :, None, :]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).type_as(x)
