"""A Llama-architecture decoder in plain PyTorch, in the spirit of gpt-fast's model.py.

RMSNorm, rotary embeddings, grouped-query attention through
``scaled_dot_product_attention``, SwiGLU MLP and a preallocated static KV cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class ModelArgs:
    """Shape of a Llama-class model."""

    vocab_size: int = 32000
    dim: int = 4096
    n_layers: int = 32
    n_heads: int = 32
    n_kv_heads: int = 32
    intermediate_size: int = 11008
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    max_seq_len: int = 2048
    rope_scaling: tuple[float, float, float, int] | None = None  # llama3: factor, low, high, original max

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads


PRESETS: dict[str, ModelArgs] = {
    "tiny": ModelArgs(vocab_size=512, dim=128, n_layers=2, n_heads=4, n_kv_heads=2, intermediate_size=352,
                      max_seq_len=256),
    "llama-3.2-1b": ModelArgs(vocab_size=128256, dim=2048, n_layers=16, n_heads=32, n_kv_heads=8,
                              intermediate_size=8192, rope_theta=500000.0, max_seq_len=4096,
                              rope_scaling=(32.0, 1.0, 4.0, 8192)),
    "llama-3.1-8b": ModelArgs(vocab_size=128256, dim=4096, n_layers=32, n_heads=32, n_kv_heads=8,
                              intermediate_size=14336, rope_theta=500000.0, max_seq_len=4096,
                              rope_scaling=(8.0, 1.0, 4.0, 8192)),
    "llama-3.1-70b": ModelArgs(vocab_size=128256, dim=8192, n_layers=80, n_heads=64, n_kv_heads=8,
                               intermediate_size=28672, rope_theta=500000.0, max_seq_len=4096,
                               rope_scaling=(8.0, 1.0, 4.0, 8192)),
}


def param_count(args: ModelArgs) -> int:
    """Number of weights (untied embeddings)."""
    hd = args.head_dim
    attn = args.dim * (args.n_heads + 2 * args.n_kv_heads) * hd + args.n_heads * hd * args.dim
    mlp = 3 * args.dim * args.intermediate_size
    return args.n_layers * (attn + mlp + 2 * args.dim) + 2 * args.vocab_size * args.dim + args.dim


class KVCache(nn.Module):
    """Preallocated keys and values for ``max_batch`` sequences of ``max_seq`` tokens."""

    def __init__(self, max_batch: int, max_seq: int, n_kv_heads: int, head_dim: int, dtype: torch.dtype) -> None:
        super().__init__()
        shape = (max_batch, n_kv_heads, max_seq, head_dim)
        self.register_buffer("k", torch.zeros(shape, dtype=dtype), persistent=False)
        self.register_buffer("v", torch.zeros(shape, dtype=dtype), persistent=False)

    def update(self, pos: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Write ``k``/``v`` (B, H, S, D) at positions ``pos`` (S,); return the full cache."""
        self.k[: k.shape[0], :, pos] = k
        self.v[: v.shape[0], :, pos] = v
        return self.k[: k.shape[0]], self.v[: v.shape[0]]


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rope_table(args: ModelArgs, device: torch.device | None = None) -> Tensor:
    """(max_seq_len, head_dim / 2, 2) cos/sin table."""
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


class Attention(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.args = args
        hd = args.head_dim
        self.wqkv = nn.Linear(args.dim, (args.n_heads + 2 * args.n_kv_heads) * hd, bias=False)
        self.wo = nn.Linear(args.n_heads * hd, args.dim, bias=False)
        self.kv_cache: KVCache | None = None

    def forward(self, x: Tensor, table: Tensor, pos: Tensor, mask: Tensor | None) -> Tensor:
        a = self.args
        b, s, _ = x.shape
        hd = a.head_dim
        q, k, v = self.wqkv(x).split([a.n_heads * hd, a.n_kv_heads * hd, a.n_kv_heads * hd], dim=-1)
        q = apply_rope(q.view(b, s, a.n_heads, hd), table).transpose(1, 2)
        k = apply_rope(k.view(b, s, a.n_kv_heads, hd), table).transpose(1, 2)
        v = v.view(b, s, a.n_kv_heads, hd).transpose(1, 2)
        if self.kv_cache is not None:
            k, v = self.kv_cache.update(pos, k, v)
        rep = a.n_heads // a.n_kv_heads
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)
        return self.wo(y.transpose(1, 2).reshape(b, s, a.n_heads * hd))


class FeedForward(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.w13 = nn.Linear(args.dim, 2 * args.intermediate_size, bias=False)
        self.w2 = nn.Linear(args.intermediate_size, args.dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        gate, up = self.w13(x).chunk(2, dim=-1)
        return self.w2(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.attention = Attention(args)
        self.feed_forward = FeedForward(args)
        self.attention_norm = RMSNorm(args.dim, args.norm_eps)
        self.ffn_norm = RMSNorm(args.dim, args.norm_eps)

    def forward(self, x: Tensor, table: Tensor, pos: Tensor, mask: Tensor | None) -> Tensor:
        h = x + self.attention(self.attention_norm(x), table, pos, mask)
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    """Decoder-only Llama. ``forward(tokens, pos)`` returns logits (B, S, vocab)."""

    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.args = args
        self.tok_embeddings = nn.Embedding(args.vocab_size, args.dim)
        self.layers = nn.ModuleList(Block(args) for _ in range(args.n_layers))
        self.norm = RMSNorm(args.dim, args.norm_eps)
        self.output = nn.Linear(args.dim, args.vocab_size, bias=False)
        self.register_buffer("rope", rope_table(args), persistent=False)
        self.max_seq = 0

    def setup_caches(self, max_batch: int, max_seq: int) -> None:
        """Preallocate the KV cache for ``max_batch`` sequences of ``max_seq`` tokens."""
        dtype = self.output.weight.dtype
        device = self.output.weight.device
        for layer in self.layers:
            layer.attention.kv_cache = KVCache(max_batch, max_seq, self.args.n_kv_heads, self.args.head_dim,
                                               dtype).to(device)
        self.max_seq = max_seq

    def forward(self, tokens: Tensor, pos: Tensor) -> Tensor:
        """Logits for ``tokens`` (B, S) at positions ``pos`` (S,), using the cache when set up."""
        x = self.tok_embeddings(tokens)
        table = self.rope[pos]
        mask = None
        if self.max_seq:
            mask = torch.arange(self.max_seq, device=tokens.device)[None, :] <= pos[:, None]
            mask = mask[None, None]
        for layer in self.layers:
            x = layer(x, table, pos, mask)
        return self.output(self.norm(x))


def random_model(args: ModelArgs, seed: int = 0, dtype: torch.dtype = torch.float32,
                 device: str = "cpu") -> Transformer:
    """A model with seeded random weights (throughput does not depend on weight values)."""
    torch.manual_seed(seed)
    model = Transformer(args)
    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            continue
        nn.init.normal_(p, std=0.02)
    return model.to(device=device, dtype=dtype).eval()
