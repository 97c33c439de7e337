"""Verification scaled to the dtype: bf16 rounding passes, a wrong KV cache fails in every dtype."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from bench.errors import VerificationError
from workloads.transformer.args import PRESETS
from workloads.transformer.decode import LlmDecodeWorkload
from workloads.transformer.generate import step_of
from workloads.transformer.model import KVCache, random_model
from workloads.transformer.serve import LlmServeWorkload
from workloads.transformer.verify import check_decode, relative_error, tolerance

Update = Callable[[KVCache, Tensor, Tensor, Tensor], tuple[Tensor, Tensor]]
_update: Update = KVCache.update


def _off_by_one(self: KVCache, pos: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    return _update(self, pos + 1 if k.shape[2] == 1 else pos, k, v)


def _never_written(self: KVCache, pos: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    if k.shape[2] == 1:
        return self.k[: k.shape[0]], self.v[: v.shape[0]]
    return _update(self, pos, k, v)


def _one_position_zeroed(self: KVCache, pos: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    out = _update(self, pos, k, v)
    if k.shape[2] > 1:
        self.k[:, :, 3] = 0
        self.v[:, :, 3] = 0
    return out


def _decode_error(dtype: torch.dtype) -> float:
    model = random_model(PRESETS["tiny"], seed=1, dtype=dtype)
    prompt = torch.randint(0, 512, (4, 16), generator=torch.Generator().manual_seed(0))
    model.setup_caches(4, 24)
    with torch.no_grad():
        return check_decode(model, step_of(model), prompt, 4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_correct_cache_passes_with_room_to_spare(dtype: torch.dtype) -> None:
    err = _decode_error(dtype)
    assert err < tolerance(dtype, PRESETS["tiny"]) / 3


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("corrupt", [_off_by_one, _never_written, _one_position_zeroed],
                         ids=["written-one-off", "never-written", "one-position-zeroed"])
def test_corrupted_cache_fails(monkeypatch: pytest.MonkeyPatch, dtype: torch.dtype, corrupt: Update) -> None:
    monkeypatch.setattr(KVCache, "update", corrupt)
    with pytest.raises(VerificationError, match="differs from full recomputation") as info:
        _decode_error(dtype)
    assert "rounding explains up to" in str(info.value)


def test_corrupted_cache_fails_the_workloads(monkeypatch: pytest.MonkeyPatch) -> None:
    for cls in (LlmDecodeWorkload, LlmServeWorkload):
        w = cls()
        w.setup("cpu", w.params_for("ci", {"dtype": "bfloat16", "batch": "2"}))
        monkeypatch.setattr(KVCache, "update", _off_by_one)
        with pytest.raises(VerificationError):
            w.verify()
        monkeypatch.setattr(KVCache, "update", _update)
        w.teardown()


def test_tolerance_scales_with_dtype_and_depth() -> None:
    tiny, big = PRESETS["tiny"], PRESETS["llama-3.2-1b"]
    assert tolerance(torch.bfloat16, tiny) > 1000 * tolerance(torch.float32, tiny)
    assert tolerance(torch.bfloat16, big) > tolerance(torch.bfloat16, tiny)
    assert tolerance(torch.bfloat16, big) == pytest.approx(0.125, rel=0.01)
    assert tolerance(torch.float16, big) < tolerance(torch.bfloat16, big)


def test_relative_error_is_row_wise_and_nan_fails() -> None:
    ref = torch.tensor([[3.0, 4.0], [30.0, 40.0]])
    assert relative_error(ref + torch.tensor([[0.5, 0.0], [0.5, 0.0]]), ref) == pytest.approx(0.1)
    assert not relative_error(torch.full_like(ref, float("nan")), ref) <= 1.0


@pytest.mark.skipif(not os.environ.get("SITEBENCH_LARGE_TESTS"), reason="2.5 GB, ~1 min: SITEBENCH_LARGE_TESTS=1")
def test_llama_1b_bf16_decode_verifies_on_cpu() -> None:
    w = LlmDecodeWorkload()
    w.setup("cpu", w.params_for("ci", {"model": "llama-3.2-1b", "dtype": "bfloat16"}))
    w.verify()
    w.teardown()
