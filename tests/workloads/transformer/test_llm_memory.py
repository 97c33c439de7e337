"""Memory: the model is built in its dtype on its device (never an fp32 host copy), teardown returns it
(one sweep point's model alive at a time), and preflight counts activations and logits."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import weakref
from typing import Any

import pytest
import torch

from bench.errors import UsageError
from workloads.transformer import base, common
from workloads.transformer.args import PRESETS, ModelArgs
from workloads.transformer.base import LlmWorkload
from workloads.transformer.common import activation_bytes, bytes_needed, kv_bytes
from workloads.transformer.decode import LlmDecodeWorkload
from workloads.transformer.model import Transformer, param_count, random_model
from workloads.transformer.params import check_params
from workloads.transformer.prefill import LlmPrefillWorkload
from workloads.transformer.serve import LlmServeWorkload


def test_random_model_is_built_on_meta_then_in_its_dtype(monkeypatch: pytest.MonkeyPatch) -> None:
    built_on: list[torch.device] = []
    real_init = Transformer.__init__

    def init(self: Transformer, args: ModelArgs) -> None:
        built_on.append(torch.empty(0).device)  # the default device construction allocates on
        real_init(self, args)

    monkeypatch.setattr(Transformer, "__init__", init)
    model = random_model(PRESETS["tiny"], dtype=torch.bfloat16)
    assert built_on == [torch.device("meta")]
    assert {(p.dtype, p.device.type) for p in model.parameters()} == {(torch.bfloat16, "cpu")}
    assert model.rope.dtype == torch.float32 and model.rope.device.type == "cpu"


def test_random_model_is_seeded_and_norms_are_one() -> None:
    a, b = (random_model(PRESETS["tiny"], seed=5) for _ in range(2))
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert torch.equal(a.norm.weight, torch.ones_like(a.norm.weight))
    assert 0.015 < float(a.get_parameter("layers.0.feed_forward.w13.weight").std()) < 0.025


_PEAK = textwrap.dedent("""
    import json, resource, torch
    from workloads.transformer.args import ModelArgs
    from workloads.transformer.model import random_model
    args = ModelArgs(vocab_size=8000, dim=1024, n_layers=12, n_heads=8, n_kv_heads=8, intermediate_size=4096)
    random_model(ModelArgs(vocab_size=64, dim=64, n_layers=1, n_heads=2, n_kv_heads=2, intermediate_size=64),
                 dtype=torch.bfloat16)  # torch's first ops map code and thread stacks: not the model's
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    model = random_model(args, dtype=torch.bfloat16)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"grew": after - before, "weights": sum(p.numel() * 2 for p in model.parameters())}))
""")


def test_building_a_bf16_model_allocates_no_fp32_copy() -> None:
    """Peak RSS grows by the bf16 weights (measured 1.00x), not the 2x of an fp32 build converted to bf16."""
    out = subprocess.run([sys.executable, "-c", _PEAK], capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout)
    assert figures["weights"] > 300e6
    assert figures["grew"] < 1.25 * figures["weights"], figures


def _sweep_models(monkeypatch: pytest.MonkeyPatch) -> list[weakref.ref[Transformer]]:
    """Weak references to every model the llm-* workloads build from now on."""
    refs: list[weakref.ref[Transformer]] = []
    real = base.build_model

    def build(*args: Any) -> Transformer:
        gc.collect()
        assert all(r() is None for r in refs), "an earlier point's model is still alive"
        model = real(*args)
        refs.append(weakref.ref(model))
        return model

    monkeypatch.setattr(base, "build_model", build)
    return refs


@pytest.mark.parametrize("cls", [LlmDecodeWorkload, LlmPrefillWorkload, LlmServeWorkload])
def test_teardown_releases_the_model(monkeypatch: pytest.MonkeyPatch, cls: type[LlmWorkload]) -> None:
    refs = _sweep_models(monkeypatch)
    w = cls()
    w.setup("cpu", w.params_for("ci", {"batch": "2"}))
    w.verify()
    w.step()
    metrics = w.metrics()
    w.teardown()
    assert refs[0]() is None
    assert "model" not in vars(w) and metrics


def test_sweep_through_the_runner_holds_one_model_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.run.runner import Timing, run_suite
    from bench.run.suite import build_specs

    refs = _sweep_models(monkeypatch)
    specs = build_specs(["llm-decode"], ["batch=1,2,4"], "ci", "cpu")
    runs = run_suite(specs, Timing(idle_s=0, warmup_s=0.05, window_s=0.1, repeats=1, tail_s=0), None).runs
    assert [r.status for r in runs] == ["ok"] * 3
    gc.collect()
    assert len(refs) == 3 and all(r() is None for r in refs), "the spec list keeps no model alive"


def test_preflight_counts_activations_and_logits(monkeypatch: pytest.MonkeyPatch) -> None:
    a, dt = PRESETS["llama-3.1-8b"], torch.bfloat16
    weights_kv = param_count(a) * 2 + int(kv_bytes(a, dt, 8, 640))
    act = activation_bytes(a, dt, 8, 512, 640)
    assert bytes_needed(a, dt, 8, 640, 512) == weights_kv + act
    assert act > 8 * 516 * 4 * a.intermediate_size * 2, "SwiGLU activations of the prefill"
    assert act > 2 * 8 * 5 * a.vocab_size * 2, "logits verification keeps"
    monkeypatch.setattr(common, "available_bytes", lambda device: weights_kv + act // 2)
    p = check_params("llm-prefill", {"model": "llama-3.1-8b", "batch": 8, "prompt_len": 512, "max_new_tokens": 128,
                                     "dtype": "bfloat16"})
    with pytest.raises(UsageError, match="bytes"):
        common.resolve_model("cpu", p)
    monkeypatch.setattr(common, "SDPA_GQA", False)
    assert activation_bytes(a, dt, 8, 512, 640) == act + 2 * 8 * a.n_heads * 640 * a.head_dim * 2, \
        "torch < 2.5 repeats K/V heads over the whole cache"
