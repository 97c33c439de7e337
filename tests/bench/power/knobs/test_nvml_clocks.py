"""The locked SM clock knob: a clock or ``unlocked``, restored by resetting the lock."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from bench.power.discovery import open_spec
from bench.power.knobs import KnobGuard, KnobRefused, check_before_change, open_knobs, reopen, restore_journaled
from bench.power.knobs.nvml_clocks import NvmlSmClocks


def test_range_stock_and_words(nv: ModuleType, admin: None) -> None:
    (knob,) = open_knobs("gpu.sm_clocks", "cuda:0")
    assert isinstance(knob, NvmlSmClocks)
    assert (knob.kind, knob.unit, knob.permission) == ("gpu.sm_clocks", "MHz", "root or CAP_SYS_ADMIN")
    allowed = knob.allowed()
    assert (allowed.low, allowed.high, allowed.modes) == (345.0, 1980.0, ("unlocked",))
    assert allowed.describe("MHz") == "345-1980 MHz or unlocked"
    assert knob.read() == "unlocked" and knob.stock() == "unlocked"
    assert [knob.resolve(w) for w in ("stock", "default", "max", "min", "1410", "unlocked")] == [
        "unlocked", "unlocked", 1980.0, 345.0, 1410.0, "unlocked"]
    assert knob.limit_w(1410.0) is None, "a clock is no power limit"
    with pytest.raises(KnobRefused, match="'fast' is not a number of MHz nor one of stock"):
        knob.resolve("fast")
    assert "cannot read a clock lock back" in knob.notes()[0]


def test_lock_lowers_the_draw_and_the_guard_unlocks(nv: ModuleType, admin: None) -> None:
    (knob,) = open_knobs("gpu.sm_clocks", "cuda:0")
    (meter,) = open_spec("nvml:0")
    gpu = nv.nvmlDeviceGetHandleByIndex(0)
    journal: list[dict[str, Any]] = []
    with KnobGuard(journal.append) as guard:
        assert guard.apply(knob, 990.0) == 990.0
        assert gpu.locked == (990, 990) and knob.sm_clock_mhz() == 990.0
        assert meter.read().power_w == pytest.approx(310.0), "MODELLED: 620 W x 990/1980"
        assert guard.apply(knob, "unlocked") == "unlocked", "a sweep's stock point resets the lock"
        assert gpu.locked is None
    assert journal[0]["original"] == "unlocked" and journal[-1]["type"] == "knob_restored"
    assert nv.changes == [(0, "lock 990,990"), (0, "reset clocks"), (0, "reset clocks")]
    assert knob.read() == "unlocked" and meter.read().power_w == pytest.approx(620.0)
    meter.close()


@pytest.mark.parametrize(("value", "message"), [
    (2100.0, r"2100 MHz is outside the device's own range \(345-1980 MHz or unlocked\)"),
    (100.0, "100 MHz is outside"),
    ("turbo", r"'turbo' is not a number of MHz nor 'unlocked'"),
])
def test_out_of_range_or_unknown_word_changes_nothing(nv: ModuleType, admin: None, value: Any, message: str) -> None:
    (knob,) = open_knobs("gpu.sm_clocks", "cuda:0")
    with pytest.raises(KnobRefused, match=message):
        check_before_change([knob], [(knob, value)])
    assert nv.changes == []


def test_no_permission_changes_nothing(nv: ModuleType, not_admin: None) -> None:
    knobs = open_knobs("gpu.sm_clocks", "cuda")
    with pytest.raises(KnobRefused, match="gpu.sm_clocks on gpu:0: .* lacks CAP_SYS_ADMIN"):
        check_before_change(knobs, [(k, 1410.0) for k in knobs])
    assert nv.changes == []


def test_recover_unlocks_what_a_killed_run_locked(nv: ModuleType, admin: None) -> None:
    (knob,) = open_knobs("gpu.sm_clocks", "cuda:1")
    journal: list[dict[str, Any]] = []
    guard = KnobGuard(journal.append)
    guard.apply(knob, 1410.0)  # then killed: no knob_restored
    gpu = nv.nvmlDeviceGetHandleByIndex(1)
    assert gpu.locked == (1410, 1410)
    assert isinstance(reopen(knob.spec()), NvmlSmClocks)
    restored, failures = restore_journaled(journal)
    assert restored == ["gpu.sm_clocks on gpu:1: restored to 'unlocked'"] and failures == []
    assert gpu.locked is None


def test_without_supported_clocks_the_range_runs_to_the_max_clock(nv: ModuleType) -> None:
    nv.nvmlDeviceGetSupportedGraphicsClocks = lambda h, mem: []
    (knob,) = open_knobs("gpu.sm_clocks", "cuda:0")
    assert knob.allowed().describe("MHz") == "0-1980 MHz or unlocked"
