"""open_knobs, the reopen registry, the guard across several knobs, and Allowed's range-and-modes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bench.power.knobs import MACHINE_KINDS, Allowed, KnobFailed, KnobGuard, KnobRefused, open_knobs, reopen
from tests.bench.power.fake_powercap import limit_uw


def test_an_unknown_kind_is_one_line() -> None:
    with pytest.raises(KnobRefused, match=r"^unknown knob 'gpu.voltage' \(known: gpu.power_limit, gpu.sm_clocks, "
                                          r"cpu.package_limit\)$"):
        open_knobs("gpu.voltage", "cuda")
    with pytest.raises(KnobFailed, match="unknown knob kind 'gpu.voltage'"):
        reopen({"kind": "gpu.voltage", "target": "gpu:0"})
    assert list(MACHINE_KINDS) == ["gpu.power_limit", "gpu.sm_clocks", "cpu.package_limit"]


def test_importing_the_knobs_registers_every_reopener() -> None:
    code = "from bench.power.knobs.knob import OPENERS; print(' '.join(sorted(OPENERS)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert set(out.stdout.split()) >= {"cpu.package_limit", "gpu.power_limit", "gpu.sm_clocks"}
    assert "pynvml" not in subprocess.run(
        [sys.executable, "-c", "import sys, bench.power.knobs; print(' '.join(sys.modules))"],
        capture_output=True, text=True, timeout=120, check=True).stdout.split(), "pynvml is imported when used"


def test_one_guard_over_gpus_and_packages_restores_all_even_when_one_fails(
        nv: ModuleType, zones: list[Path], admin: None) -> None:
    knobs = open_knobs("gpu.power_limit", "cuda") + open_knobs("gpu.sm_clocks", "cuda:0") + \
        open_knobs("cpu.package_limit", "cpu")
    journal: list[dict[str, Any]] = []
    with pytest.raises(RuntimeError, match="the workload died"), KnobGuard(journal.append) as guard:
        for knob, value in zip(knobs, (400.0, 300.0, 1410.0, 100.0, 110.0)):
            guard.apply(knob, value)
        (zones[1] / "constraint_0_power_limit_uw").unlink()
        (zones[1] / "constraint_0_power_limit_uw").mkdir()  # the zone can no longer be written
        raise RuntimeError("the workload died")
    gpus = [nv.nvmlDeviceGetHandleByIndex(i) for i in range(2)]
    assert [g.limit_mw for g in gpus] == [700_000, 700_000] and gpus[0].locked is None
    assert limit_uw(zones[0]) == 250_000_000
    assert guard.restored == [k.label for k in reversed(knobs) if k.target != "intel-rapl:1"]
    (failure,) = guard.failures
    assert failure.startswith("cpu.package_limit on intel-rapl:1: not restored to 250.0: ")
    assert journal[-5]["type"] == "knob_restore_failed" and journal[-5]["value"] == 250.0


def test_allowed_takes_a_range_modes_or_both() -> None:
    modes = Allowed(modes=("normal", "low-power"))
    modes.check("normal", "mode", "m")
    with pytest.raises(KnobRefused, match=r"'fast' is not one of its modes \(normal, low-power\)"):
        modes.check("fast", "mode", "m")
    with pytest.raises(KnobRefused, match="is not one of its modes"):
        modes.check(3.0, "mode", "m")
    ranged = Allowed(low=100.0, high=700.0)
    ranged.check(100.0, "W", "p")
    with pytest.raises(KnobRefused, match="'max' is not a number of W$"):
        ranged.check("max", "W", "p")
    both = Allowed(low=345.0, high=1980.0, modes=("unlocked",))
    both.check("unlocked", "MHz", "c")
    both.check(1410.0, "MHz", "c")
    with pytest.raises(KnobRefused, match=r"c: 2000 MHz is outside the device's own range \(345-1980 MHz or "
                                          r"unlocked\)"):
        both.check(2000.0, "MHz", "c")
    Allowed().check(5.0, "W", "anything")
