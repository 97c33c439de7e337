"""A whole measurement: load, steady window cut into slices, and joules per token from a metrics page whose
energy counters rise linearly (400 W + 200 W), so J/token is known in advance; then the run record."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import pytest

from bench.power.discovery import open_spec
from bench.power.sampler import Sampler
from bench.record import Gpu, Settings, System, new_document
from bench.serve.measure.outcome import LoadPoint, ServeMeasurement, ServeSettings, run
from bench.serve.record.runrecord import run_head, to_run_record
from bench.testing.openai_server import Behaviour, ServerThread
from tests.bench.conftest import check

WATTS = [400.0, 200.0]
PERIOD_S = 0.05
#: the scrape jitter of a held counter (bench.serve.measure.energy): up to period / 2 plus a fetch at each edge
JITTER_S = PERIOD_S / 2 + 0.15  # a fetch of the page, each edge: up to 150 ms on a loaded 2-core machine


def measure(points: list[LoadPoint], **behaviour: Any) -> tuple[list[ServeMeasurement], Sampler]:
    with ServerThread(Behaviour(ttft=0.02, itl=0.01, watts=WATTS, **behaviour)) as srv:
        meters = open_spec(f"prometheus:{srv.url}/metrics,metric=DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION,period={PERIOD_S}")
        sampler = Sampler(meters, rate_hz=50)
        sampler.start()
        try:
            settings = ServeSettings(srv.url, dataset="random:in=16,out=20", num_prompts=60, warmup=4)
            return run(settings, points, sampler=sampler), sampler
        finally:
            sampler.stop()


def test_joules_per_token_over_the_steady_window_and_the_run_record() -> None:
    [m], sampler = measure([LoadPoint(math.inf, 4)])
    recs = m.records
    assert len(recs) == 60 and m.metrics.completed == 60 and m.metrics.failed == 0
    assert all(r.output_tokens == 20 and r.token_source == "usage" and r.ttft <= r.latency for r in recs)
    w, e = m.window, m.energy
    assert w.valid, w.reasons
    assert e is not None and e.block.valid_for_sizing, e.block.invalid_reasons
    assert e.block.scope == "gpu:0+gpu:1" and e.block.scope_class == "components"
    total = sum(WATTS)
    # energy is the counters' difference between the scrapes held at the edge markers: P x T to the scrape jitter
    assert e.block.energy_j == pytest.approx(total * w.duration, abs=total * JITTER_S)
    assert e.j_per_output_token == pytest.approx(total * w.duration / w.output_tokens, abs=total * JITTER_S / w.output_tokens)
    assert e.j_per_token == pytest.approx(e.block.energy_j / w.total_tokens)
    assert [x.energy_j / e.block.energy_j for x in e.meters] == pytest.approx([2 / 3, 1 / 3], abs=0.03)
    # the measured windows are the slices of the steady window, bounded by markers
    line = m.timeline
    assert [n for n, _ in line.slices][0] == "steady/start" and line.slices[-1][0] == "steady/end"
    assert 2 <= len(line.slices) - 1 <= 5 and all(n.startswith("tick-") for n, _ in line.slices[1:-1])
    assert (line.slices[0][1], line.slices[-1][1]) == (w.start, w.end) and w.bounds == [t for _, t in line.slices]
    assert sum(w.slice_tokens) == pytest.approx(w.output_tokens)
    assert e.block.window_s == pytest.approx(w.duration, abs=1e-9)
    assert sampler.markers[-1].phase == f"serve/{m.point.label}/run/end"  # trimmed to the last marker

    run = to_run_record(m, run_head(m.setup, m.settings, m.point, [log.meter for log in sampler.logs.values()]))
    assert (run.workload, run.unit, run.device, run.status, run.verified) == (
        "serve", "token", f"endpoint:{m.setup.server.host}", "ok", True)
    assert run.hardware is not None and run.hardware.kind == "endpoint" and run.hardware.model == "fake-model"
    assert run.hardware.details["accelerators"] == "2x Fake GPU" and run.hardware.chips == 2
    assert run.hardware.details["owned_by"] == "fake" and run.hardware.details["base_url"] == m.setup.server.base_url
    assert run.params["max_concurrency"] == 4 and run.params["request_rate"] == "inf" and run.params["warmup"] == 4
    thr = run.throughput
    assert thr.units == w.slice_tokens and thr.rate == pytest.approx(w.output_tokens / w.duration)
    assert thr.durations_s == pytest.approx([b - a for a, b in pairwise(w.bounds)])
    assert [p.name for p in run.phases] == ["warmup", "ramp", *(f"window-{i}" for i in range(len(thr.units))), "drain"]
    assert run.power.energy_j == e.block.energy_j and len(run.power.window_energy_j) == len(thr.units)
    assert run.efficiency.per_joule == pytest.approx(1 / e.j_per_output_token)
    assert thr.rate / run.power.avg_w == pytest.approx(run.efficiency.per_joule)
    mt = run.metrics
    assert mt["completed"] == 60 and mt["failed"] == 0 and mt["token_source"] == "usage" and mt["steady_valid"] is True
    assert mt["j_per_output_token"] == e.j_per_output_token and mt["steady_state_energy_per_token"] == e.j_per_output_token
    for key in ("mean_ttft_ms", "median_tpot_ms", "p90_itl_ms", "p99_e2el_ms", "request_throughput", "output_throughput"):
        assert isinstance(mt[key], float) and mt[key] > 0, key
    assert not any(isinstance(v, (list, dict)) for v in mt.values()) and "ttfts" not in mt
    # the client's host has a 250 W GPU 0; the endpoint's gpu:0 (400 W) is another board: not judged against it
    client = System(hostname="client", gpus=[Gpu(index=0, name="NVIDIA A100 PCIe 40GB")])
    doc = new_document(client, [run], settings=Settings(sample_rate_hz=sampler.rate_hz))
    assert [f.line("r.json") for f in check(doc.to_json()) if f.level == "error"] == []


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
