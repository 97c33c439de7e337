"""Checked parameters of the llm-* workloads: every bad value is a UsageError naming it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bench.errors import UsageError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class LlmParams:
    """What one llm-* run was asked for (model shape and memory are checked by :mod:`common`)."""

    workload: str
    model: str
    checkpoint: str
    dtype: str
    batch: int
    prompt_len: int
    max_new_tokens: int
    seed: int
    compile: bool
    step_tokens: int

    @property
    def seq(self) -> int:
        """Positions the KV cache must hold."""
        return self.prompt_len + self.max_new_tokens


def _int(workload: str, params: Mapping[str, Any], key: str, default: int | None, least: int) -> int:
    value = params.get(key, default)
    if value is None:
        raise UsageError(f"parameter {key!r} is missing")
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value, 0)
        except ValueError:
            pass
    if number is None:
        raise UsageError(f"{key}={value!r} is not an integer")
    if number < least:
        raise UsageError(f"{key}={number} must be >= {least}")
    return number


def check_params(workload: str, params: Mapping[str, Any]) -> LlmParams:
    """The parameters of an llm-* workload, each checked.

    Raises:
        UsageError: a missing or non-integer count, ``batch``, ``prompt_len``,
            ``max_new_tokens`` or ``step_tokens`` below 1, a negative ``seed``, an
            unknown ``dtype`` (float16 on CPU is refused later, by device), a
            non-boolean ``compile``, an empty ``model`` without ``checkpoint``,
            or a ``checkpoint`` that is not a directory.
    """
    dtype = str(params.get("dtype", "auto"))
    if dtype != "auto" and dtype not in DTYPES:
        raise UsageError(f"dtype {dtype!r} unknown (known: auto, {', '.join(DTYPES)})")
    compile_ = params.get("compile", False)
    if not isinstance(compile_, bool):
        raise UsageError(f"compile={compile_!r} must be true or false")
    checkpoint = str(params.get("checkpoint", "") or "")
    if checkpoint and not Path(checkpoint).is_dir():
        raise UsageError(f"checkpoint directory {checkpoint!r} does not exist")
    model = str(params.get("model", "") or "")
    if not model and not checkpoint:
        raise UsageError("give a model preset or a checkpoint directory")
    return LlmParams(
        workload=workload, model=model, checkpoint=checkpoint, dtype=dtype,
        batch=_int(workload, params, "batch", None, 1),
        prompt_len=_int(workload, params, "prompt_len", None, 1),
        max_new_tokens=_int(workload, params, "max_new_tokens", 1, 1),
        seed=_int(workload, params, "seed", 0, 0),
        compile=compile_,
        step_tokens=_int(workload, params, "step_tokens", 1, 1),
    )
