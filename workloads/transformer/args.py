"""The shape of a Llama-class model (:class:`ModelArgs`) and the named presets (:data:`PRESETS`).

Plain numbers, no torch: :mod:`~workloads.transformer.rope`, :mod:`~workloads.transformer.model`
and the checkpoint reader all build on this module, which imports nothing of theirs.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    tie_embeddings: bool = False  # output projection shares the embedding table

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads


PRESETS: dict[str, ModelArgs] = {
    "tiny": ModelArgs(vocab_size=512, dim=128, n_layers=2, n_heads=4, n_kv_heads=2, intermediate_size=352,
                      max_seq_len=256),
    "llama-3.2-1b": ModelArgs(vocab_size=128256, dim=2048, n_layers=16, n_heads=32, n_kv_heads=8,
                              intermediate_size=8192, rope_theta=500000.0, max_seq_len=4096,
                              rope_scaling=(32.0, 1.0, 4.0, 8192), tie_embeddings=True),
    "llama-3.1-8b": ModelArgs(vocab_size=128256, dim=4096, n_layers=32, n_heads=32, n_kv_heads=8,
                              intermediate_size=14336, rope_theta=500000.0, max_seq_len=4096,
                              rope_scaling=(8.0, 1.0, 4.0, 8192)),
    "llama-3.1-70b": ModelArgs(vocab_size=128256, dim=8192, n_layers=80, n_heads=64, n_kv_heads=8,
                               intermediate_size=28672, rope_theta=500000.0, max_seq_len=4096,
                               rope_scaling=(8.0, 1.0, 4.0, 8192)),
}
