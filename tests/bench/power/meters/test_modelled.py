"""The modelled CPU meter: never a first 0 W reading, always labelled modelled."""

from __future__ import annotations

import time

import pytest

from bench.errors import MeterUnavailable
from bench.power.discovery import open_spec
from bench.power.meters import modelled
from bench.run.runner import Timing
from tests.bench.power.fakes import sampled_run


class FakePercent:
    """Like psutil.cpu_percent: the first non-blocking call ever returns 0.0."""

    def __init__(self, util: float) -> None:
        self.util = util
        self.primed = False

    def __call__(self, interval: float | None = None) -> float:
        if interval:
            time.sleep(interval)
            self.primed = True
            return self.util
        if not self.primed:
            self.primed = True
            return 0.0
        return self.util


def test_first_reading_is_not_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_CPU_TDP_W", "200")
    monkeypatch.setattr(modelled.psutil, "cpu_percent", FakePercent(50.0))
    (m,) = open_spec("model")
    assert m.read().power_w == pytest.approx(100.0)
    d = m.figure()
    assert d.measured is False and d.scope == "modelled" and d.method == "model"
    assert d.accuracy is None and "modelled, not measured" in d.accuracy_note


def test_bad_tdp_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_CPU_TDP_W", "lots")
    with pytest.raises(MeterUnavailable, match="SITEBENCH_CPU_TDP_W='lots' is not a number"):
        open_spec("model")


def test_modelled_run_is_level_0_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_CPU_TDP_W", "200")
    run = sampled_run(open_spec("model"), Timing(idle_s=0.1, warmup_s=0.05, window_s=0.4, repeats=2, tail_s=0.1), rate_hz=20)
    pw = run.power
    assert pw.measured is False and pw.scope == "modelled" and pw.scope_class == "modelled"
    assert pw.quality.level == 0 and "modelled" in pw.quality.reasons[0]
    assert pw.meters[0].trace[0][1] is not None
