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
from workloads.transformer.args import ModelArgs
from workloads.transformer.model import Transformer
from workloads.transformer.rope import rope_table

SUPPORTED = ("LlamaForCausalLM",)


def read_config(directory: str | Path) -> ModelArgs:
    """ModelArgs (``tie_word_embeddings`` included) from ``config.json``; UsageError when unusable."""
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
            rope_scaling=_rope_scaling(rope), tie_embeddings=bool(cfg.get("tie_word_embeddings", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"checkpoint config {str(cfg_path)!r} is missing or has a bad field: {exc}") from None
    return args


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


class _Tensors:
    """Tensors of a safetensors checkpoint, read one at a time into the target dtype and device."""

    def __init__(self, path: Path, dtype: torch.dtype, device: str) -> None:
        self.path, self.dtype, self.device = path, dtype, device
        single = path / "model.safetensors"
        index = path / "model.safetensors.index.json"
        if not single.is_file() and not index.is_file():
            raise UsageError(f"checkpoint {str(path)!r} has neither model.safetensors nor model.safetensors.index.json")
        try:
            if single.is_file():
                self.files = {name: single for name in self._names(single)}
            else:
                weight_map = json.loads(index.read_text())["weight_map"]
                self.files = {str(name): path / str(fname) for name, fname in weight_map.items()}
        except Exception as exc:  # noqa: BLE001  # safetensors raises several types for bad files
            raise UsageError(f"cannot read weights in {str(path)!r}: {exc}") from None

    @staticmethod
    def _names(file: Path) -> list[str]:
        from safetensors import safe_open

        with safe_open(str(file), framework="pt") as f:
            return list(f.keys())

    def __contains__(self, name: str) -> bool:
        return name in self.files

    def take(self, name: str) -> torch.Tensor:
        """Tensor ``name`` in the target dtype on the target device; UsageError when absent or unreadable."""
        from safetensors import safe_open

        if name not in self.files:
            raise UsageError(f"checkpoint lacks tensor {name!r}")
        try:
            with safe_open(str(self.files[name]), framework="pt") as f:
                tensor = f.get_tensor(name)
        except Exception as exc:  # noqa: BLE001  # safetensors raises several types for bad files
            raise UsageError(f"cannot read weights in {str(self.path)!r}: {exc}") from None
        return tensor.to(device=self.device, dtype=self.dtype)


def load_checkpoint(directory: str | Path, dtype: torch.dtype = torch.float32, device: str = "cpu") -> Transformer:
    """A :class:`Transformer` with the weights of the HF Llama checkpoint in ``directory``.

    The model is built on ``meta``; each tensor is read, converted to ``dtype``
    on ``device`` and assigned, so no float32 copy of the whole model is made.
    """
    path = Path(directory)
    args = read_config(path)
    t = _Tensors(path, dtype, device)
    with torch.device("meta"):
        model = Transformer(args)
    expected = {k: v.shape for k, v in model.state_dict().items()}

    def put(name: str, tensor: torch.Tensor) -> None:
        if tuple(tensor.shape) != tuple(expected[name]):
            raise UsageError(f"tensor {name!r} has shape {tuple(tensor.shape)}, config needs {tuple(expected[name])}")
        model.load_state_dict({name: tensor}, strict=False, assign=True)

    put("tok_embeddings.weight", t.take("model.embed_tokens.weight"))
    put("norm.weight", t.take("model.norm.weight"))
    if not args.tie_embeddings:
        put("output.weight", t.take("lm_head.weight" if "lm_head.weight" in t else "model.embed_tokens.weight"))
    for i in range(args.n_layers):
        p, q = f"model.layers.{i}.", f"layers.{i}."
        put(q + "attention.wqkv.weight", torch.cat([t.take(p + f"self_attn.{x}_proj.weight") for x in "qkv"]))
        put(q + "attention.wo.weight", t.take(p + "self_attn.o_proj.weight"))
        put(q + "feed_forward.w13.weight",
            torch.cat([t.take(p + "mlp.gate_proj.weight"), t.take(p + "mlp.up_proj.weight")]))
        put(q + "feed_forward.w2.weight", t.take(p + "mlp.down_proj.weight"))
        put(q + "attention_norm.weight", t.take(p + "input_layernorm.weight"))
        put(q + "ffn_norm.weight", t.take(p + "post_attention_layernorm.weight"))
    model.tie()
    model.rope = rope_table(args, device)
    for weight in model.parameters():
        weight.requires_grad_(False)
    return model.eval()
