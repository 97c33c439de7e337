"""A whole measurement: load, steady window, and joules per token from a metrics page whose
energy counters rise linearly (300 W + 200 W), so J/token is known in advance."""

from __future__ import annotations

import math
import statistics

import pytest

from bench.power.meters import prometheus
from bench.power.sampler import Sampler
from bench.serve.fakeserver import Behaviour, ServerThread
from bench.serve.measure import LoadPoint, ServeSettings, run
from bench.serve.record import run_inputs, to_run_record

WATTS = [300.0, 200.0]


def measure(points: list[LoadPoint], **behaviour: object) -> tuple[list, Sampler]:
    with ServerThread(Behaviour(ttft=0.02, itl=0.01, watts=WATTS, **behaviour)) as srv:  # type: ignore[arg-type]
        meters = prometheus.probe(f"{srv.url}/metrics,metric=DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION,period=0.05")
        sampler = Sampler(meters, rate_hz=50)
        sampler.start()
        try:
            settings = ServeSettings(srv.url, dataset="random:in=16,out=20", num_prompts=60, warmup=4)
            return run(settings, points, sampler=sampler), sampler
        finally:
            sampler.stop()


def test_joules_per_token_over_the_steady_window() -> None:
    [m], sampler = measure([LoadPoint(math.inf, 4)])
    recs = m.records
    assert len(recs) == 60 and m.metrics.completed == 60 and m.metrics.failed == 0
    assert all(r.output_tokens == 20 and r.token_source == "usage" and r.ttft <= r.latency for r in recs)
    w, e = m.window, m.energy
    assert w.valid, w.reasons
    assert e is not None and e.valid_for_sizing, e.reasons
    assert e.scope == "gpu:0+gpu:1" and e.scope_class == "components"
    total = sum(WATTS)
    assert e.avg_w == pytest.approx(total, rel=0.02)
    assert e.j_per_output_token == pytest.approx(total * w.duration / w.output_tokens, rel=0.02)
    assert e.j_per_token == pytest.approx(total * w.duration / w.total_tokens, rel=0.02)
    assert [x.j_per_output_token / e.j_per_output_token for x in e.meters] == pytest.approx([0.6, 0.4], rel=0.03)
    # the power window is the steady window: its markers were set at the window's edges
    assert e.block["window_s"] == pytest.approx(w.duration, abs=1e-9)
    assert sampler.markers[-1].phase == f"serve/{m.point.label}/run/end"  # trimmed to the last marker

    inputs = run_inputs(m, [log.meter for log in sampler.logs.values()])
    assert inputs.device == f"endpoint:{m.setup.server.host}" and inputs.token_source == "usage"
    assert inputs.hardware == [{"modelName": "Fake GPU", "UUID": f"GPU-{i}"} for i in (0, 1)]
    assert (inputs.window_start, inputs.window_end, inputs.output_tokens) == (w.start, w.end, w.output_tokens)
    assert statistics.mean(inputs.throughput_samples) == pytest.approx(w.output_tokens / w.duration)
    assert inputs.metrics["completed"] == 60 and "p99_itl_ms" in inputs.metrics and "ttfts" not in inputs.metrics
    assert inputs.energy is not None and inputs.energy["j_per_output_token"] == e.j_per_output_token
    assert inputs.params["max_concurrency"] == 4 and inputs.params["request_rate"] == "inf"
    with pytest.raises(NotImplementedError):
        to_run_record(inputs)


def test_a_sweep_is_one_measurement_per_point() -> None:
    ms, _ = measure([LoadPoint(math.inf, 2), LoadPoint(math.inf, 6)])
    assert [m.point.max_concurrency for m in ms] == [2, 6]
    assert ms[0].metrics.max_concurrent_requests <= 2 < ms[1].metrics.max_concurrent_requests <= 6
    assert all(m.energy is not None and m.energy.j_per_output_token for m in ms)
    # same prompts at every point
    assert [r.input_tokens for r in ms[0].records] == [r.input_tokens for r in ms[1].records]


def test_an_open_loop_at_a_request_rate() -> None:
    [m], _ = measure([LoadPoint(200.0, None)])
    assert m.metrics.completed == 60 and m.window.start is not None
    assert "first completion" in m.window.rule
