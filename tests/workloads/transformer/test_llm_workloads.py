"""The llm-* workloads: verification, metrics, checkpoint parameter, memory check, roofline."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench.errors import UsageError
from workloads.transformer.args import PRESETS
from workloads.transformer.common import bytes_needed
from workloads.transformer.decode import LlmDecodeWorkload
from workloads.transformer.model import param_count
from workloads.transformer.roofline import peaks


def _run(workload: LlmDecodeWorkload, params: dict, steps: int = 20) -> dict:
    workload.setup("cpu", params)
    workload.verify()
    workload.reset_metrics()
    done = sum(workload.step() for _ in range(steps))
    assert done == steps * params["batch"] * params["step_tokens"]
    return workload.metrics()


def test_decode_metrics_are_consistent() -> None:
    w = LlmDecodeWorkload()
    params = w.params_for("ci", {"batch": "2", "max_new_tokens": "8", "step_tokens": "4"})
    m = _run(w, params, steps=20)
    assert m["steps"] == 20 * 4 and m["batch"] == 2, "one inter-token latency per token"
    assert m["itl_p50_ms"] <= m["itl_p90_ms"] <= m["itl_p99_ms"]
    assert m["decode_tok_s"] == pytest.approx(2 / (m["tpot_ms"] / 1e3))
    assert m["ttft_ms"] is not None  # 20 steps over 8-token sequences wrap to fresh prefills
    assert 0 < m["mbu"] < 1


def test_decode_bf16_verifies_on_cpu() -> None:
    w = LlmDecodeWorkload()
    m = _run(w, w.params_for("ci", {"dtype": "bfloat16", "batch": "1", "step_tokens": "1"}), steps=3)
    assert w.model.output.weight.dtype == torch.bfloat16 and m["steps"] == 3


def test_too_big_model_is_refused_before_allocating() -> None:
    w = LlmDecodeWorkload()
    with pytest.raises(UsageError, match="bytes"):
        w.setup("cpu", w.params_for("ci", {"model": "llama-3.1-70b", "batch": "64"}))


def test_unknown_preset_and_dtype_are_usage_errors() -> None:
    w = LlmDecodeWorkload()
    with pytest.raises(UsageError):
        w.setup("cpu", w.params_for("ci", {"model": "nope"}))
    with pytest.raises(UsageError):
        w.setup("cpu", w.params_for("ci", {"dtype": "float16"}))


def test_real_shapes_have_known_parameter_counts() -> None:
    # tied embeddings in the 1B release: one vocab x dim matrix
    assert PRESETS["llama-3.2-1b"].tie_embeddings
    assert param_count(PRESETS["llama-3.2-1b"]) == pytest.approx(1.236e9, rel=0.01)
    assert param_count(PRESETS["llama-3.1-8b"]) == pytest.approx(8.03e9, rel=0.01)
    assert param_count(PRESETS["llama-3.1-70b"]) == pytest.approx(70.6e9, rel=0.01)
    assert bytes_needed(PRESETS["llama-3.1-8b"], torch.bfloat16, 1, 0) == 2 * param_count(PRESETS["llama-3.1-8b"])


def test_cpu_peaks_are_measured_and_cached() -> None:
    figures = peaks("cpu", torch.float32)
    assert figures is not None and figures.bytes_per_s > 1e8 and figures.flops is not None and figures.flops > 1e8
    assert peaks("cpu", torch.float32) is figures


def test_checkpoint_parameter_loads_weights(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    from safetensors.torch import save_file

    t = PRESETS["tiny"]
    cfg = transformers.LlamaConfig(vocab_size=t.vocab_size, hidden_size=t.dim, num_hidden_layers=t.n_layers,
                                   num_attention_heads=t.n_heads, num_key_value_heads=t.n_kv_heads,
                                   intermediate_size=t.intermediate_size, max_position_embeddings=t.max_seq_len,
                                   tie_word_embeddings=False)
    hf = transformers.LlamaForCausalLM(cfg)
    cfg.save_pretrained(tmp_path)
    save_file({k: v.contiguous() for k, v in hf.state_dict().items()}, str(tmp_path / "model.safetensors"))
    w = LlmDecodeWorkload()
    _run(w, w.params_for("ci", {"checkpoint": str(tmp_path), "batch": "1"}), steps=2)
    assert torch.equal(w.model.output.weight, hf.lm_head.weight)


def test_decode_step_tokens_continue_one_greedy_sequence_across_steps() -> None:
    """Tokens from several multi-token steps equal one greedy generation (no token lost or repeated)."""
    from workloads.transformer.generate import greedy

    w = LlmDecodeWorkload()
    w.setup("cpu", w.params_for("ci", {"batch": "1", "max_new_tokens": "12", "step_tokens": "3"}))
    got = [w.next_token]
    for _ in range(3):
        w.step()
        got.append(w.next_token)
    ref = greedy(w.model, w.prompt, 10)
    seen = torch.cat(got, dim=1)[0].tolist()
    assert seen == [ref[0, i].item() for i in (0, 3, 6, 9)]
