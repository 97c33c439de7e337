"""The sampler: bounded memory across runs, a journal of every reading, markers with readings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.measure.journal import Journal
from bench.power.sampler import Sampler
from bench.run.runner import RunSpec, Timing, run_suite
from tests.bench.power.fakes import CounterMeter, Sleeper

FAST = Timing(idle_s=0.1, warmup_s=0.05, window_s=0.3, repeats=2, tail_s=0.1)


def test_memory_holds_one_run_and_the_journal_holds_everything(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "r.json.journal.jsonl")
    sampler = Sampler([CounterMeter(120.0, "node")], rate_hz=50, journal=journal)
    sampler.start()
    specs = [RunSpec(Sleeper(), "cpu", {}) for _ in range(3)]
    try:
        runs = run_suite(specs, FAST, sampler, log=journal).runs
    finally:
        sampler.stop()
        journal.close()
    log = sampler.logs["test:node"]
    per_run = [r.power.meters[0] for r in runs]
    assert all(m.avg_w == pytest.approx(120.0, rel=1e-3) and m.valid for m in per_run)
    lines = [json.loads(x) for x in (tmp_path / "r.json.journal.jsonl").read_text().splitlines()]
    readings = [x for x in lines if x["type"] == "reading"]
    assert log.offset > 0 and len(log.readings) < len(readings) / 2
    assert log.offset + len(log.readings) == len(readings)
    assert len(sampler.markers) < 12  # one run's markers at most, plus the carried last one
    assert [x["phase"] for x in lines if x["type"] == "marker"][-1].endswith("/tail/end")
    assert [x["type"] for x in lines].count("run") == 3, "each run's record is journaled as it completes"
    times = [x["t"] for x in readings]
    assert times == sorted(times)


def test_rate_is_the_one_asked_for_when_no_meter_needs_more() -> None:
    sampler = Sampler([CounterMeter(1.0)], rate_hz=10)
    assert sampler.rate_hz == pytest.approx(10.0) and sampler.notes == []
