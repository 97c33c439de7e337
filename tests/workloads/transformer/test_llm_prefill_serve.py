"""llm-prefill and llm-serve: verification and metrics."""

from __future__ import annotations

import pytest
import torch

from workloads.transformer.prefill import LlmPrefillWorkload
from workloads.transformer.serve import LlmServeWorkload


def test_prefill_counts_prompt_tokens_and_reports_mfu() -> None:
    w = LlmPrefillWorkload()
    w.setup("cpu", w.params_for("ci", {"batch": "2", "prompt_len": "16"}))
    w.verify()
    w.reset_metrics()
    assert sum(w.step() for _ in range(3)) == 3 * 2 * 16
    m = w.metrics()
    assert m["prefill_tok_s"] > 0 and 0 < m["mfu"] and m["batch"] == 2


def test_serve_reports_latencies_in_order() -> None:
    w = LlmServeWorkload()
    w.setup("cpu", w.params_for("ci", {"batch": "2", "prompt_len": "8", "max_new_tokens": "6"}))
    w.verify()
    w.reset_metrics()
    assert w.step() == 2 * 6
    m = w.metrics()
    assert m["ttft_ms"] < m["e2e_latency_ms"]
    assert m["itl_p50_ms"] <= m["itl_p90_ms"] <= m["itl_p99_ms"]
    assert m["decode_tok_s"] == pytest.approx(2 / (m["tpot_ms"] / 1e3))


def test_registered_outside_default_suite() -> None:
    from bench.registry import load_workload_class, workload_names

    assert {"llm-decode", "llm-prefill", "llm-serve"} <= set(workload_names())
    assert load_workload_class("llm-serve") is LlmServeWorkload
    assert not LlmPrefillWorkload.default_suite and not LlmServeWorkload.default_suite


def test_generate_serve_decode_and_verify_run_the_one_greedy_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    from typing import Any

    from workloads.transformer import decode, generate, serve, verify
    from workloads.transformer.args import PRESETS
    from workloads.transformer.decode import LlmDecodeWorkload
    from workloads.transformer.model import random_model

    callers: list[str] = []
    real = generate.decode_n_tokens
    for module in (generate, decode, serve, verify):
        def loop(*args: Any, _name: str = module.__name__.rsplit(".", 1)[1], **kwargs: Any) -> Any:
            callers.append(_name)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, "decode_n_tokens", loop)
    model = random_model(PRESETS["tiny"])
    generate.greedy(model, torch.zeros(1, 3, dtype=torch.long), 4)
    for cls in (LlmDecodeWorkload, LlmServeWorkload):
        w = cls()
        w.setup("cpu", w.params_for("ci", {"batch": "1", "prompt_len": "4", "max_new_tokens": "8"}))
        w.verify()
        w.step()
        w.teardown()
    assert callers == ["generate", "verify", "decode", "verify", "serve"]
