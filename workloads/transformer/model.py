"""A Llama-architecture decoder in plain PyTorch, in the spirit of gpt-fast's model.py.

RMSNorm, rotary embeddings, grouped-query attention through
``scaled_dot_product_attention(enable_gqa=True)`` (no repeated K/V copies on
torch >= 2.5), SwiGLU MLP and a preallocated static KV cache.

Calling convention of :meth:`Transformer.forward`: a call with several tokens
is a prefill starting at position 0 (causal attention over those tokens, through
``is_causal``, so flash kernels stay eligible); a call with one token while the
cache is set up is a decode step at ``input_pos`` (a device tensor), attending
to the cache up to that position. The shape comes from :class:`~workloads.transformer.args.ModelArgs`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.torch_version import TorchVersion

from workloads.transformer.args import ModelArgs
from workloads.transformer.rope import apply_rope, rope_table

#: ``scaled_dot_product_attention(enable_gqa=True)`` exists (torch >= 2.5); else K/V heads are repeated.
SDPA_GQA = TorchVersion(torch.__version__) >= "2.5"


def param_count(args: ModelArgs) -> int:
    """Number of weights (the embedding table once when tied)."""
    hd = args.head_dim
    attn = args.dim * (args.n_heads + 2 * args.n_kv_heads) * hd + args.n_heads * hd * args.dim
    mlp = 3 * args.dim * args.intermediate_size
    tables = (1 if args.tie_embeddings else 2) * args.vocab_size * args.dim
    return args.n_layers * (attn + mlp + 2 * args.dim) + tables + args.dim


class KVCache(nn.Module):
    """Preallocated keys and values for ``max_batch`` sequences of ``max_seq`` tokens."""

    def __init__(self, max_batch: int, max_seq: int, n_kv_heads: int, head_dim: int, dtype: torch.dtype,
                 device: torch.device | None = None) -> None:
        super().__init__()
        shape = (max_batch, n_kv_heads, max_seq, head_dim)
        self.k: Tensor
        self.v: Tensor
        self.register_buffer("k", torch.zeros(shape, dtype=dtype, device=device), persistent=False)
        self.register_buffer("v", torch.zeros(shape, dtype=dtype, device=device), persistent=False)

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


def attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, causal: bool) -> Tensor:
    """SDPA of q (B, H, S, D) over k, v (B, H_kv, T, D); K/V heads shared by groups of query heads."""
    if SDPA_GQA:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, enable_gqa=True)
    rep = q.shape[1] // k.shape[1]  # torch < 2.5: materialise the repeated heads (preflight counts them)
    k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)


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
            k_all, v_all = self.kv_cache.update(pos, k, v)
            if mask is not None:  # decode: attend to the cache up to pos
                k, v = k_all, v_all
        y = attend(q, k, v, mask, causal=mask is None and s > 1)
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
    """Decoder-only Llama. ``forward(tokens, input_pos)`` returns logits (B, S, vocab)."""

    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.args = args
        self.tok_embeddings = nn.Embedding(args.vocab_size, args.dim)
        self.layers = nn.ModuleList(Block(args) for _ in range(args.n_layers))
        self.norm = RMSNorm(args.dim, args.norm_eps)
        self.output = nn.Linear(args.dim, args.vocab_size, bias=False)
        self.tie()
        self.rope: Tensor
        self.cache_positions: Tensor | None
        self.register_buffer("rope", rope_table(args), persistent=False)
        self.register_buffer("cache_positions", None, persistent=False)

    def tie(self) -> None:
        """Share the embedding table with the output projection when ``args.tie_embeddings``."""
        if self.args.tie_embeddings:
            self.output.weight = self.tok_embeddings.weight

    def attentions(self) -> list[Attention]:
        """The attention module of every layer, in order."""
        return [cast(Block, layer).attention for layer in self.layers]

    @property
    def caching(self) -> bool:
        """Whether a KV cache is set up (and not suspended by :meth:`uncached`)."""
        return self.attentions()[0].kv_cache is not None

    def setup_caches(self, max_batch: int, max_seq: int) -> None:
        """Preallocate the KV cache for ``max_batch`` sequences of ``max_seq`` tokens."""
        dtype, device = self.output.weight.dtype, self.output.weight.device
        for attention in self.attentions():
            attention.kv_cache = None  # free the old cache first
            attention.kv_cache = KVCache(max_batch, max_seq, self.args.n_kv_heads, self.args.head_dim, dtype, device)
        self.cache_positions = torch.arange(max_seq, device=device)

    def drop_caches(self) -> None:
        """Free the KV cache."""
        for attention in self.attentions():
            attention.kv_cache = None
        self.cache_positions = None

    @contextmanager
    def uncached(self) -> Iterator[Transformer]:
        """Run without the KV cache inside the block (full recomputation); the cache is kept for after."""
        attentions = self.attentions()
        saved = [attention.kv_cache for attention in attentions]
        for attention in attentions:
            attention.kv_cache = None
        try:
            yield self
        finally:
            for attention, cache in zip(attentions, saved):
                attention.kv_cache = cache

    def forward(self, tokens: Tensor, input_pos: Tensor, n_logits: int | None = None) -> Tensor:
        """Logits for ``tokens`` (B, S) at positions ``input_pos`` (S,), using the cache when set up.

        ``n_logits``: project only the last ``n_logits`` positions onto the vocabulary
        (a prefill needs the last one only); None projects every position.
        """
        x = self.tok_embeddings(tokens)
        table = self.rope[input_pos]
        mask = None
        if tokens.shape[1] == 1 and self.caching and self.cache_positions is not None:
            mask = (self.cache_positions[None, :] <= input_pos[:, None])[None, None]
        for layer in self.layers:
            x = layer(x, table, input_pos, mask)
        if n_logits is not None:
            x = x[:, -n_logits:]
        return self.output(self.norm(x))


def materialize(model: Transformer, device: torch.device | str, dtype: torch.dtype) -> Transformer:
    """Give a model built on ``meta`` uninitialised weights on ``device`` in ``dtype`` (no other copy)."""
    made: dict[int, nn.Parameter] = {}
    for module in model.modules():
        for name, p in list(module.named_parameters(recurse=False)):
            if id(p) not in made:
                made[id(p)] = nn.Parameter(torch.empty(p.shape, dtype=dtype, device=device), requires_grad=False)
            setattr(module, name, made[id(p)])
    model.rope = rope_table(model.args, device)
    model.tie()
    return model


def random_model(args: ModelArgs, seed: int = 0, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> Transformer:
    """A model with seeded random weights, built on ``meta`` and initialised in place on ``device`` in ``dtype``.

    Throughput does not depend on weight values; the same seed gives the same
    weights on the same device type.
    """
    with torch.device("meta"):
        model = Transformer(args)
    materialize(model, device, dtype)
    gen = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            else:
                p.normal_(0.0, 0.02, generator=gen)
    return model.eval()
