"""``run --soak``: a workload whose rate falls at a known rate and a fake NVML board whose throttling changes
during the soak give a soak block reporting that drift and that throttled fraction; a real ``sitebench run
--soak 3s --window 0.5`` end to end; bad input in one line, exit 2."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bench.measure.soak import SoakSpec
from bench.power.meters import nvml
from bench.power.sampler import Sampler
from bench.record import Timing
from bench.run.runner import RunSpec, run_suite
from bench.run.soak import SoakLog, soak_timing
from bench.workload import Workload
from tests.bench.power import fake_pynvml

#: the workload's rate falls by this fraction of its starting rate per second of the soak
FALL_PER_S = 0.05
R0 = 1e9
#: windows in which the fake GPU reports a thermal slowdown (of 10)
HOT = {3, 4, 5, 8}


class Fading(Workload):
    """Does ``R0 (1 - FALL_PER_S t)`` units per second at ``t`` seconds after its first step: each step returns
    the integral of that rate over its own span, so any window's units are the integral over the window."""

    name = "fading"
    unit = "op"
    presets: dict[str, dict[str, Any]] = {"ci": {}}

    def __init__(self) -> None:
        self.t0: float | None = None
        self.last = 0.0

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        pass

    def verify(self) -> None:
        pass

    def _integral(self, t: float) -> float:
        return R0 * (t - FALL_PER_S * t * t / 2)

    def step(self) -> int:
        now = time.monotonic()
        if self.t0 is None:
            self.t0, self.last = now, 0.0
        time.sleep(0.01)
        t = time.monotonic() - self.t0
        done = self._integral(t) - self._integral(self.last)
        self.last = t
        return round(done)


class HotSampler(Sampler):
    """Sets the fake board's reasons for window N just before the marker that opens it: the reading taken with
    that marker (the only one in the window: the background poll waits 1000 s) holds for the whole window."""

    def __init__(self, gpu: fake_pynvml.Gpu, **kw: Any) -> None:
        super().__init__(**kw)
        self.gpu = gpu

    def mark(self, phase: str) -> float:
        name = phase.rsplit("/", 1)[-1]
        if name.startswith("window-"):
            hot = int(name[7:]) in HOT
            self.gpu.reasons = fake_pynvml.SW_POWER_CAP | (fake_pynvml.HW_THERMAL_SLOWDOWN if hot else 0)
        return super().mark(phase)


def test_a_soak_reports_the_drift_and_throttled_fraction_it_was_built_with(monkeypatch: pytest.MonkeyPatch) -> None:
    gpu = fake_pynvml.Gpu()
    monkeypatch.setattr(nvml, "_import", lambda: fake_pynvml.make([gpu]))
    monkeypatch.setattr(nvml, "cuda_ordinals", lambda: {})
    spec = SoakSpec(requested_s=2.0, window_s=0.2, threshold=0.01)
    timing = soak_timing(Timing(idle_s=0.0, warmup_s=0.0, window_s=1.0, repeats=3, tail_s=0.0), spec)
    assert (timing.window_s, timing.repeats) == (0.2, 10)
    sampler = HotSampler(gpu, meters=nvml.open_spec(nvml.MeterSpec.parse("nvml")), rate_hz=0.001)
    trends: list[str] = []
    log = SoakLog(None, trends.append, spec.threshold)
    sampler.start()
    try:
        (run,) = run_suite([RunSpec(Fading(), "cpu", {}, soak=spec)], timing, sampler, log=log).runs
    finally:
        sampler.stop()
    s = run.soak
    assert run.ok and s is not None and s.windows == s.planned_windows == 10
    assert s.throughput is not None and s.throughput.verdict == "drifting" and s.verdict == "drifting"
    # the rate at mid-window t is R0 (1 - FALL_PER_S t): its slope is -R0 FALL_PER_S per second, as a fraction
    # of the windows' mean rate per hour
    built = -R0 * FALL_PER_S * 3600 / s.throughput.mean
    assert s.throughput.per_hour == pytest.approx(built, rel=0.05)
    assert s.throughput.low is not None and s.throughput.high is not None
    assert s.throughput.high < -100 * s.threshold  # hundreds of %/h: a drift no noise here explains
    durations = run.throughput.durations_s
    hot_s = sum(durations[i] for i in HOT)
    assert s.throttled_s == pytest.approx(hot_s, abs=0.02)
    assert s.throttled_fraction == pytest.approx(hot_s / sum(durations), abs=0.01)
    assert s.throttled_fraction == pytest.approx(len(HOT) / 10, abs=0.05)
    (dev,) = s.throttle
    assert dev.device == "gpu:0" and dev.reasons["hw_thermal_slowdown"] == pytest.approx(hot_s, abs=0.02)
    assert dev.reasons["sw_power_cap"] == pytest.approx(sum(durations), abs=0.02)
    assert len(trends) == 10 and trends[-1].startswith("drift -") and trends[-1].endswith("drifting")


def cli(*argv: str) -> tuple[int, str, str]:
    from bench.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("args", "says"), [
    (["--soak", "-1"], "--soak -1: must be a positive duration"),
    (["--soak", "abc"], "--soak 'abc': not a duration"),
    (["--soak", "0.3s", "--window", "0.5"], "--soak 0.3s: shorter than one window (0.5 s)"),
    (["--soak", "10s", "--repeats", "3"], "--soak and --repeats"),
    (["--drift-threshold", "2"], "--drift-threshold: only with --soak"),
    (["--soak", "1m", "--drift-threshold", "-1"], "--drift-threshold -1: must be a positive percentage"),
    (["--soak", "11d", "--window", "1"], "more than one run holds"),
])
def test_bad_soak_input_is_one_line_exit_2_and_nothing_written(tmp_path: Path, args: list[str], says: str) -> None:
    out = tmp_path / "r.json"
    code, _, err = cli("run", "-w", "sha256", "--meter", "model", *args, "--out", str(out))
    assert code == 2, err
    assert says in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_a_real_soak_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    run = subprocess.run([sys.executable, "-m", "bench", "run", "-w", "sha256", "--meter", "model", "--soak", "3s",
                          "--window", "0.5", "--quiet", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "soak: sha256 on cpu: 6 windows" in run.stdout
    doc = json.loads(out.read_text())
    s = doc["runs"][0]["soak"]
    assert (s["requested_s"], s["window_s"], s["planned_windows"], s["windows"]) == (3.0, 0.5, 6, 6)
    assert doc["settings"]["timing"]["repeats"] == 6 and len(doc["runs"][0]["throughput"]["samples"]) == 6
    assert s["throughput"]["verdict"] in ("stable", "drifting", "inconclusive") and s["efficiency"] is not None
    assert "throttled_s" not in s and any("throttle reasons" in n for n in s["notes"])  # none reported here
    checked = subprocess.run([sys.executable, "-m", "bench", "validate", str(out)], capture_output=True, text=True,
                             timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "[soak]" not in checked.stdout
    s["throughput"]["per_hour"] += 0.5
    out.write_text(json.dumps(doc))
    forged = subprocess.run([sys.executable, "-m", "bench", "validate", str(out)], capture_output=True, text=True,
                            timeout=120)
    assert forged.returncode == 1 and "$.runs[0].soak.throughput.per_hour" in forged.stdout + forged.stderr


def test_a_soak_killed_midway_is_recovered_with_its_block(tmp_path: Path) -> None:
    import signal

    out = tmp_path / "r.json"
    journal = Path(f"{out}.journal.jsonl")
    proc = subprocess.Popen([sys.executable, "-m", "bench", "run", "-w", "sha256", "--meter", "model", "--soak", "1m",
                             "--window", "0.5", "--drift-threshold", "3", "--quiet", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while sum('"type":"window"' in line for line in
                  (journal.read_text().splitlines() if journal.exists() else [])) < 5:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-2000:]
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert not out.exists()
    r = subprocess.run([sys.executable, "-m", "bench", "recover", str(journal)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["settings"]["soak"] == {"requested_s": 60.0, "window_s": 0.5, "threshold": 0.03}
    (run,) = doc["runs"]
    s = run["soak"]
    assert run["status"] == "interrupted" and s["planned_windows"] == 120 and 5 <= s["windows"] < 120
    assert s["windows"] == len(run["throughput"]["samples"]) and s["threshold"] == 0.03
    assert f"{s['windows']} of 120 windows measured" in s["notes"]
    checked = subprocess.run([sys.executable, "-m", "bench", "validate", str(out)], capture_output=True, text=True,
                             timeout=120)
    assert "[soak]" not in checked.stdout, checked.stdout
