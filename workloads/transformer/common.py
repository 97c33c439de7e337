"""What the transformer workloads share: resolving and building the model, memory check, bytes moved."""

from __future__ import annotations

import torch

from bench.errors import UsageError
from workloads.transformer.args import PRESETS, ModelArgs
from workloads.transformer.checkpoint import load_checkpoint, read_config
from workloads.transformer.model import SDPA_GQA, Transformer, param_count, random_model
from workloads.transformer.params import DTYPES, LlmParams

#: Decode steps that verification runs and recomputes without the cache.
VERIFY_TOKENS = 4

#: The model preset ``model="auto"`` stands for: qualification size on a GPU, CI size on a CPU.
AUTO_MODEL = {"cpu": "tiny", "cuda": "llama-3.1-8b"}


def dtype_for(device: str, name: str) -> torch.dtype:
    """Torch dtype for ``name``; "auto" is fp32 on CPU and bf16 on GPU."""
    kind = torch.device(device).type
    if name == "auto":
        return torch.float32 if kind == "cpu" else torch.bfloat16
    if name not in DTYPES:
        raise UsageError(f"dtype {name!r} unknown (known: auto, {', '.join(DTYPES)})")
    if kind == "cpu" and name == "float16":
        raise UsageError("float16 is not supported on cpu; use float32 or bfloat16")
    return DTYPES[name]


def kv_bytes(args: ModelArgs, dtype: torch.dtype, batch: int, seq: float) -> float:
    """Keys and values of ``batch`` sequences of ``seq`` positions."""
    return 2 * args.n_layers * batch * args.n_kv_heads * seq * args.head_dim * dtype.itemsize


def activation_bytes(args: ModelArgs, dtype: torch.dtype, batch: int, prompt_len: int, seq: int) -> int:
    """Transient memory beyond weights and KV cache, at its largest.

    The largest forward is verification's uncached recomputation of the prompt
    plus :data:`VERIFY_TOKENS` tokens: one layer's activations (residual,
    normed input, q/k/v, SwiGLU's ``w13`` output and product, and float32
    RoPE/RMSNorm temporaries), the logits verification keeps (cached and
    recomputed, plus their float32 copies), and on torch < 2.5 the K/V heads
    repeated for attention over the whole cache.
    """
    size = dtype.itemsize
    s = prompt_len + min(VERIFY_TOKENS, seq - prompt_len)
    qkv = (args.n_heads + 2 * args.n_kv_heads) * args.head_dim
    per_token = (4 * args.dim + qkv + 4 * args.intermediate_size) * size + 4 * args.dim * 4
    logits = 2 * batch * (VERIFY_TOKENS + 1) * args.vocab_size * (size + 4)
    repeated = 0 if SDPA_GQA else 2 * batch * args.n_heads * seq * args.head_dim * size
    return batch * s * per_token + logits + repeated


def bytes_needed(args: ModelArgs, dtype: torch.dtype, batch: int, seq: int, prompt_len: int | None = None) -> int:
    """Weights plus KV cache, plus :func:`activation_bytes` when ``prompt_len`` is given."""
    need = param_count(args) * dtype.itemsize + int(kv_bytes(args, dtype, batch, seq))
    return need + (activation_bytes(args, dtype, batch, prompt_len, seq) if prompt_len else 0)


def available_bytes(device: str) -> int:
    """Free memory on ``device``."""
    if torch.device(device).type == "cuda":
        return torch.cuda.mem_get_info(torch.device(device))[0]
    import psutil

    return int(psutil.virtual_memory().available)


def model_args(device: str, p: LlmParams) -> ModelArgs:
    """The shape of the checkpoint or preset ``p`` names."""
    if p.checkpoint:
        return read_config(p.checkpoint)
    name = AUTO_MODEL[torch.device(device).type] if p.model == "auto" else p.model
    if name not in PRESETS:
        raise UsageError(f"unknown model preset {name!r} (known: auto, {', '.join(PRESETS)})")
    return PRESETS[name]


def resolve_model(device: str, p: LlmParams) -> tuple[ModelArgs, torch.dtype]:
    """The model shape and dtype of ``p``, checked before anything is allocated.

    Raises:
        UsageError: unknown preset or dtype, a sequence longer than the model's
            positions, or weights, KV cache and activations larger than the free
            memory (the message gives the bytes needed).
    """
    dtype = dtype_for(device, p.dtype)
    args = model_args(device, p)
    if p.seq > args.max_seq_len:
        raise UsageError(f"prompt + output length {p.seq} exceeds the model's {args.max_seq_len} positions")
    need, have = bytes_needed(args, dtype, p.batch, p.seq, p.prompt_len), available_bytes(device)
    if need > have:
        raise UsageError(f"model needs {need} bytes on {device} ({need / 2**30:.1f} GiB) at batch {p.batch}, "
                         f"only {have} bytes are free")
    return args, dtype


def build_model(device: str, p: LlmParams, dtype: torch.dtype) -> Transformer:
    """The model of ``p`` on ``device`` in ``dtype`` (``checkpoint`` dir, else the preset with seeded weights)."""
    if p.checkpoint:
        return load_checkpoint(p.checkpoint, dtype=dtype, device=device)
    return random_model(model_args(device, p), seed=p.seed, dtype=dtype, device=device)


def weight_bytes(model: Transformer) -> int:
    """Bytes of all parameters, a tied embedding table once."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def decode_bytes_per_step(model: Transformer, batch: int, avg_seq: float) -> float:
    """Bytes one decode step must read: every weight matrix whole, but only ``batch`` rows of the embedding.

    The output projection is read whole; a tied embedding table is that same
    matrix (counted once by :func:`weight_bytes`) and its looked-up rows are
    read again at the start of the step. Plus the KV cache up to ``avg_seq``.
    """
    table = model.tok_embeddings.weight
    untied = 0 if table is model.output.weight else table.numel() * table.element_size()
    rows = batch * table.shape[1] * table.element_size()
    kv = kv_bytes(model.args, table.dtype, batch, avg_seq)
    return weight_bytes(model) - untied + rows + kv
