"""What the transformer workloads share: building the model, memory check, latency statistics."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from bench.errors import UsageError
from workloads.transformer.model import PRESETS, ModelArgs, Transformer, param_count, random_model

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def dtype_for(device: str, name: str) -> torch.dtype:
    """Torch dtype for ``name``; "auto" is fp32 on CPU and bf16 on GPU."""
    if name == "auto":
        return torch.float32 if device == "cpu" else torch.bfloat16
    if name not in DTYPES:
        raise UsageError(f"dtype {name!r} unknown (known: auto, {', '.join(DTYPES)})")
    if device == "cpu" and name == "float16":
        raise UsageError("float16 is not supported on cpu; use float32 or bfloat16")
    return DTYPES[name]


def bytes_needed(args: ModelArgs, dtype: torch.dtype, batch: int, seq: int) -> int:
    """Weights plus KV cache in bytes."""
    size = torch.finfo(dtype).bits // 8
    kv = 2 * args.n_layers * batch * args.n_kv_heads * seq * args.head_dim
    return (param_count(args) + kv) * size


def available_bytes(device: str) -> int:
    """Free memory on ``device``."""
    if device.startswith("cuda"):
        return torch.cuda.mem_get_info(torch.device(device))[0]
    import psutil

    return psutil.virtual_memory().available


#: The model preset ``model="auto"`` stands for: qualification size on a GPU, CI size on a CPU.
AUTO_MODEL = {"cpu": "tiny", "cuda": "llama-3.1-8b"}


def resolve_model(device: str, params: Mapping[str, Any], batch: int, seq: int) -> tuple[ModelArgs, torch.dtype]:
    """The model shape and dtype of ``params``, checked before anything is allocated.

    Raises:
        UsageError: unknown preset or dtype, a sequence longer than the model's
            positions, or weights plus KV cache larger than the free memory (the
            message gives the bytes needed).
    """
    dtype = dtype_for(device, str(params.get("dtype", "auto")))
    checkpoint = str(params.get("checkpoint", ""))
    if checkpoint:
        from workloads.transformer.checkpoint import read_config

        args, _ = read_config(checkpoint)
    else:
        name = str(params["model"])
        if name == "auto":
            name = AUTO_MODEL[device.split(":", 1)[0]]
        if name not in PRESETS:
            raise UsageError(f"unknown model preset {name!r} (known: auto, {', '.join(PRESETS)})")
        args = PRESETS[name]
    if seq > args.max_seq_len:
        raise UsageError(f"prompt + output length {seq} exceeds the model's {args.max_seq_len} positions")
    need, have = bytes_needed(args, dtype, batch, seq), available_bytes(device)
    if need > have:
        raise UsageError(f"model needs {need} bytes on {device} ({need / 2**30:.1f} GiB) at batch {batch}, "
                         f"only {have} bytes are free")
    return args, dtype


def preflight(device: str, params: Mapping[str, Any]) -> None:
    """:meth:`Workload.preflight` of every transformer workload."""
    seq = int(params["prompt_len"]) + int(params.get("max_new_tokens", 1))
    resolve_model(device, params, int(params["batch"]), seq)


def build_model(device: str, params: Mapping[str, Any], batch: int, seq: int) -> Transformer:
    """The model of ``params`` (``checkpoint`` dir, else ``model`` preset with seeded weights)."""
    args, dtype = resolve_model(device, params, batch, seq)
    checkpoint = str(params.get("checkpoint", ""))
    if checkpoint:
        from workloads.transformer.checkpoint import load_checkpoint

        return load_checkpoint(checkpoint, dtype=dtype, device=device)
    return random_model(args, seed=int(params.get("seed", 0)), dtype=dtype, device=device)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile ``q`` (0-100), None when empty."""
    if not values:
        return None
    return float(torch.quantile(torch.tensor(values, dtype=torch.float64), q / 100).item())


def weight_bytes(model: Transformer) -> int:
    """Bytes of all parameters (what one decode step must read)."""
    return sum(p.numel() * p.element_size() for p in model.parameters())
