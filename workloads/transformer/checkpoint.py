"""Load a local Hugging Face Llama-format checkpoint directory with safetensors (no network).

HF stores q/k projections already permuted for rotate-half RoPE, and :func:`apply_rope`
pairs the two halves the same way, so weights map one to one (q/k/v concatenated into
``wqkv``, gate/up into ``w13``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from bench.errors import UsageError
from workloads.transformer.model import ModelArgs, Transformer

SUPPORTED = ("LlamaForCausalLM",)


def read_config(directory: str | Path) -> tuple[ModelArgs, bool]:
    """ModelArgs and ``tie_word_embeddings`` from ``config.json``; UsageError when unusable."""
    path = Path(directory)
    if not path.is_dir():
        raise UsageError(f"checkpoint directory {str(path)!r} does not exist")
    cfg_path = path / "config.json"
    try:
        cfg: dict[str, Any] = json.loads(cfg_path.read_text())
    except FileNotFoundError:
        raise UsageError(f"checkpoint {str(path)!r} has no config.json") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"checkpoint config {str(cfg_path)!r} is not valid JSON: {exc}") from None
    archs = cfg.get("architectures") or [cfg.get("model_type", "?")]
    if not any(a in SUPPORTED for a in archs) and cfg.get("model_type") != "llama":
        raise UsageError(f"unsupported architecture {archs!r} in {str(cfg_path)!r} (supported: {', '.join(SUPPORTED)})")
    rope = cfg.get("rope_scaling") or cfg.get("rope_parameters") or {}
    try:
        n_heads = int(cfg["num_attention_heads"])
        args = ModelArgs(
            vocab_size=int(cfg["vocab_size"]), dim=int(cfg["hidden_size"]), n_layers=int(cfg["num_hidden_layers"]),
            n_heads=n_heads, n_kv_heads=int(cfg.get("num_key_value_heads") or n_heads),
            intermediate_size=int(cfg["intermediate_size"]), norm_eps=float(cfg.get("rms_norm_eps", 1e-5)),
            rope_theta=float(cfg.get("rope_theta", rope.get("rope_theta", 10000.0))),
            max_seq_len=int(cfg.get("max_position_embeddings", 2048)),
            rope_scaling=_rope_scaling(rope),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"checkpoint config {str(cfg_path)!r} is missing or has a bad field: {exc}") from None
    return args, bool(cfg.get("tie_word_embeddings", False))


def _rope_scaling(raw: Any) -> tuple[float, float, float, int] | None:
    if not raw:
        return None
    kind = raw.get("rope_type", raw.get("type"))
    if kind == "default":
        return None
    if kind != "llama3":
        raise ValueError(f"rope_scaling type {kind!r} (only 'llama3')")
    return (float(raw["factor"]), float(raw["low_freq_factor"]), float(raw["high_freq_factor"]),
            int(raw["original_max_position_embeddings"]))


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    single = path / "model.safetensors"
    index = path / "model.safetensors.index.json"
    try:
        if single.is_file():
            return load_file(str(single))
        if index.is_file():
            files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            tensors: dict[str, torch.Tensor] = {}
            for name in files:
                tensors.update(load_file(str(path / name)))
            return tensors
    except Exception as exc:  # safetensors raises several types for truncated / foreign files
        raise UsageError(f"cannot read weights in {str(path)!r}: {exc}") from None
    raise UsageError(f"checkpoint {str(path)!r} has neither model.safetensors nor model.safetensors.index.json")


def _take(tensors: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    try:
        return tensors[name]
    except KeyError:
        raise UsageError(f"checkpoint lacks tensor {name!r}") from None


def load_checkpoint(directory: str | Path, dtype: torch.dtype = torch.float32, device: str = "cpu") -> Transformer:
    """A :class:`Transformer` with the weights of the HF Llama checkpoint in ``directory``."""
    path = Path(directory)
    args, tied = read_config(path)
    t = _read_tensors(path)
    state: dict[str, torch.Tensor] = {
        "tok_embeddings.weight": _take(t, "model.embed_tokens.weight"),
        "norm.weight": _take(t, "model.norm.weight"),
        "output.weight": t["lm_head.weight"] if "lm_head.weight" in t and not tied
        else _take(t, "model.embed_tokens.weight"),
    }
    for i in range(args.n_layers):
        p = f"model.layers.{i}."
        state[f"layers.{i}.attention.wqkv.weight"] = torch.cat(
            [_take(t, p + f"self_attn.{x}_proj.weight") for x in "qkv"])
        state[f"layers.{i}.attention.wo.weight"] = _take(t, p + "self_attn.o_proj.weight")
        state[f"layers.{i}.feed_forward.w13.weight"] = torch.cat(
            [_take(t, p + "mlp.gate_proj.weight"), _take(t, p + "mlp.up_proj.weight")])
        state[f"layers.{i}.feed_forward.w2.weight"] = _take(t, p + "mlp.down_proj.weight")
        state[f"layers.{i}.attention_norm.weight"] = _take(t, p + "input_layernorm.weight")
        state[f"layers.{i}.ffn_norm.weight"] = _take(t, p + "post_attention_layernorm.weight")
    with torch.device("meta"):
        model = Transformer(args)
    expected = {k: v.shape for k, v in model.state_dict().items()}
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name]):
            raise UsageError(f"tensor {name!r} has shape {tuple(tensor.shape)}, config needs {tuple(expected[name])}")
    model.load_state_dict(state, assign=True)
    model.rope = _rope_for(args)
    return model.to(device=device, dtype=dtype).eval()


def _rope_for(args: ModelArgs) -> torch.Tensor:
    from workloads.transformer.model import rope_table

    return rope_table(args)
