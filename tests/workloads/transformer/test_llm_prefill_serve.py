"""llm-prefill and llm-serve: verification and metrics."""

from __future__ import annotations

import pytest

from workloads.transformer.prefill import LlmPrefillWorkload, LlmServeWorkload


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
