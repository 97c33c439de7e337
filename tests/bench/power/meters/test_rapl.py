"""RAPL against a fake powercap tree whose package counter moves with the clock."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bench.errors import MeterUnavailable
from bench.power.discovery import open_spec
from bench.power.meter import CounterDiscontinuity
from bench.power.meters import rapl
from bench.power.sampler import Sampler

RANGE_UJ = 20_000_000  # 20 J: at 50 W the counter wraps every 0.4 s
WATTS = 50.0


def _zone(root: Path, dirname: str, name: str, energy_uj: int = 0, range_uj: int = RANGE_UJ,
          max_power_uw: int | None = 100_000_000) -> Path:
    z = root / dirname
    z.mkdir(parents=True)
    (z / "name").write_text(name + "\n")
    (z / "energy_uj").write_text(f"{energy_uj}\n")
    (z / "max_energy_range_uj").write_text(f"{range_uj}\n")
    if max_power_uw is not None:
        (z / "constraint_0_max_power_uw").write_text(f"{max_power_uw}\n")
    return z


def _write(path: Path, value: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{value}\n")
    os.replace(tmp, path)  # a reader never sees a half-written file


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path))
    return tmp_path


#: A ``python -c`` entry point that runs ``sitebench`` with the package counter computed when it is read.
LIVE_RUN = f"""
import os, sys, time
from bench.power.meters import rapl
t0, real = float(os.environ["FAKE_RAPL_T0"]), rapl._read_int
rapl._read_int = lambda p: int({WATTS} * 1e6 * (time.monotonic() - t0)) % {RANGE_UJ + 1} if p.name == "energy_uj" else real(p)
from bench.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.fixture
def running_counter(tree: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package zone drawing WATTS, its counter wrapping at RANGE_UJ: computed from the monotonic clock
    when it is read, as the hardware's is, so no writer thread lags behind on a loaded machine."""
    zone = _zone(tree, "intel-rapl:0", "package-0")
    t0 = time.monotonic()  # CLOCK_MONOTONIC: the same clock in a child process (LIVE_RUN)
    monkeypatch.setenv("FAKE_RAPL_T0", repr(t0))
    real = rapl._read_int
    monkeypatch.setattr(rapl, "_read_int", lambda p: int(WATTS * 1e6 * (time.monotonic() - t0)) % (RANGE_UJ + 1)
                        if p.name == "energy_uj" else real(p))
    return zone


def test_counter_wrapping_several_times_during_a_real_run_is_unwrapped(running_counter: Path) -> None:
    (meter,) = open_spec("rapl")
    assert meter.scope == "cpu-package:0" and meter.method == "counter"
    # wrap time 20 J / 100 W = 0.2 s, read 4 times per wrap: the 2 Hz asked for is raised to 20 Hz
    assert meter.max_poll_period_s == pytest.approx(0.05)
    sampler = Sampler([meter], rate_hz=2.0)
    assert sampler.rate_hz == pytest.approx(20.0) and "raised" in sampler.notes[0]
    sampler.start()
    t_start = sampler.mark("start")
    time.sleep(2.0)
    t_end = sampler.mark("end")
    sampler.stop()
    log = sampler.logs[meter.name]
    assert meter.wraps >= 4
    assert log.gaps == []
    first, last = log.readings[sampler.marker("start").index[meter.name]], log.readings[sampler.marker("end").index[meter.name]]
    watts = (last.energy_j - first.energy_j) / (last.t - first.t)
    assert watts == pytest.approx(WATTS, rel=0.02)
    assert t_end - t_start >= 2.0


def test_counter_backwards_and_impossible_jump_are_discontinuities(tree: Path) -> None:
    zone = _zone(tree, "intel-rapl:0", "package-0", energy_uj=5_000_000)
    (meter,) = open_spec("rapl")
    _write(zone / "energy_uj", 5_000_500)
    assert meter.read().energy_j == pytest.approx(0.0005)
    _write(zone / "energy_uj", 4_000_000)  # backwards by 1 J: not a wrap (that would be ~19 J at once)
    with pytest.raises(CounterDiscontinuity, match="went backwards by 1000500 uJ"):
        meter.read()
    _write(zone / "energy_uj", 4_000_100)  # the meter carries on from the new value
    assert meter.read().energy_j == pytest.approx(0.0006)
    _write(zone / "energy_uj", 19_000_000)  # 15 J in a few ms: far beyond 4 x 100 W
    with pytest.raises(CounterDiscontinuity, match="jumped by 15 J"):
        meter.read()


def test_duplicate_amd_domains_are_measured_once(tree: Path) -> None:
    _zone(tree, "intel-rapl:0", "package-0")
    _zone(tree, "intel-rapl:0:0", "core")
    _zone(tree, "amd-rapl:0", "package-0")  # the same package under the second driver
    _zone(tree, "intel-rapl:1", "package-1")
    _zone(tree, "intel-rapl:1:1", "dram")
    meters = open_spec("rapl")
    assert sorted(m.scope for m in meters) == ["cpu-package:0", "cpu-package:1", "dram:1"]
    assert next(m for m in meters if m.scope == "cpu-package:0").zone.name == "intel-rapl:0"


def test_permission_denied_is_loud_with_the_fix(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _zone(tree, "intel-rapl:0", "package-0")
    real = rapl._read_int

    def denied(path: Path) -> int:
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(rapl, "_read_int", denied)
    with pytest.raises(MeterUnavailable, match="permission denied") as info:
        open_spec("rapl")
    assert "udev rule" in str(info.value) and "root" in str(info.value)


def test_missing_root_and_empty_tree_say_why(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MeterUnavailable, match="no intel-rapl or amd-rapl zones"):
        open_spec("rapl")
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tree / "nowhere"))
    with pytest.raises(MeterUnavailable, match="not present"):
        open_spec("rapl")


def test_sampler_warns_when_a_counter_wraps_faster_than_it_can_poll(tree: Path) -> None:
    _zone(tree, "intel-rapl:0", "package-0", range_uj=100_000)  # 0.1 J at 100 W: 1 ms
    sampler = Sampler(open_spec("rapl"), rate_hz=10)
    assert sampler.rate_hz == pytest.approx(1000.0)
    assert "wraps may be missed" in sampler.notes[0]


def test_run_on_a_wrapping_fake_rapl_records_a_valid_checked_power_block(running_counter: Path, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from bench.record import schema_errors
    from bench.validation import validate_file

    out = tmp_path / "r.json"
    env = {**os.environ, "SITEBENCH_POWERCAP_ROOT": str(running_counter.parent)}
    proc = subprocess.run([sys.executable, "-c", LIVE_RUN, "run", "-w", "sha256", "--meter", "rapl", "--quiet",
                           "--idle", "0.3", "--warmup", "0.2", "--window", "0.6", "--repeats", "2",
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "sampling raised from 10 Hz to 20 Hz" in proc.stderr
    doc = json.loads(out.read_text())
    assert schema_errors(doc) == []
    assert doc["settings"]["sample_rate_hz"] == pytest.approx(20.0)
    pw = doc["runs"][0]["power"]
    (m,) = pw["meters"]
    assert m["name"] == "rapl:cpu-package:0" and m["method"] == "counter" and m["update_period_s"] == 0.001
    assert m["energy_method"] == "counter difference" and m["valid"] and m["gaps"] == []
    assert pw["avg_w"] == pytest.approx(WATTS, rel=0.05)
    assert pw["idle_before_w"] == pytest.approx(WATTS, rel=0.05)
    assert pw["valid_for_sizing"] is True and pw["scope_class"] == "components"
    assert pw["quality"]["level"] == 1
    power_checks = {"power", "readings", "markers", "same-window", "provenance", "efficiency"}
    assert [f for f in validate_file(out).findings if f.check in power_checks] == []
