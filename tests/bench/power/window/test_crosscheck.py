"""Cross-checks of nested meters and the quality levels, on hand-built meter figures."""

from __future__ import annotations

import pytest

from bench.power.meter import Reading
from bench.power.window import telemetry
from bench.power.window.crosscheck import crosscheck
from bench.power.window.quality import quality, scope_class
from bench.record import MeterFigure


def fig(name: str, scope: str, watts: float, accuracy: float | None = 0.05, accuracy_w: float | None = None,
        method: str = "counter difference", measured: bool = True) -> MeterFigure:
    return MeterFigure(name=name, kind="test", scope=scope, method="test", avg_w=watts, accuracy=accuracy,
                       accuracy_w=accuracy_w, measured=measured, energy_method=method)


def test_tolerance_is_the_larger_of_relative_and_absolute() -> None:
    assert fig("g", "gpu:0", 50.0, 0.05, 5.0).tolerance_w(50.0) == pytest.approx(5.0)
    assert fig("g", "gpu:0", 700.0, 0.05, 5.0).tolerance_w(700.0) == pytest.approx(35.0)
    assert fig("m", "node", 1.0, None).tolerance_w(1.0) is None


def test_eight_gpus_inside_a_node_within_accuracy() -> None:
    gpus = [fig(f"nvml:gpu:{i}", f"gpu:{i}", 650.0, 0.05, 5.0) for i in range(8)]
    out = crosscheck([fig("ipmi:node", "node", 6800.0), *gpus, fig("rapl:cpu-package:0", "cpu-package:0", 250.0)])
    unattributed, (check,) = out
    assert check.inner_w == pytest.approx(5450.0) and check.agree is True
    assert unattributed == pytest.approx(6800.0 - 5450.0)


def test_wall_below_node_and_two_node_meters_disagreeing_are_flagged() -> None:
    out = crosscheck([fig("csv:wall", "wall", 900.0, 0.01), fig("ipmi:node", "node", 1000.0),
                      fig("redfish:node", "node", 1200.0)])
    unattributed, (wall_node, same) = out
    assert wall_node.agree is False and "exceed" in wall_node.note
    assert same.agree is False and "differ" in same.note
    assert unattributed is None  # no components measured


def test_unstated_accuracy_is_not_judged() -> None:
    _, (check,) = crosscheck([fig("n", "node", 100.0, None), fig("g", "gpu:0", 300.0)])
    assert check.agree is True and "not judged" in check.note


def test_modelled_meters_take_no_part() -> None:
    out = crosscheck([fig("model:cpu", "modelled", 90.0, None, measured=False), fig("g", "gpu:0", 300.0)])
    assert out == (None, [])


def _block(**kw: object) -> dict:
    return {"valid_for_sizing": True, "idle_before_w": 1.0, "idle_after_w": 1.0, "crosschecks": [], **kw}


@pytest.mark.parametrize("chosen, block, level, reason", [
    ([fig("w", "wall", 1000.0, 0.01)], _block(), 3, None),
    ([fig("w", "wall", 1000.0, 0.01, method="trapezoid of polled power")], _block(), 2, "polled power"),
    ([fig("n", "node", 1000.0, 0.05)], _block(), 2, "stated accuracy 5% > 2%"),
    ([fig("n", "node", 1000.0, 0.01)], _block(idle_after_w=None), 2, "idle not measured"),
    ([fig("n", "node", 1000.0, 0.10)], _block(), 1, "stated accuracy 10% > 5%"),
    ([fig("n", "node", 1000.0, 0.01)], _block(valid_for_sizing=False), 1, "refused"),
    ([fig("g", "gpu:0", 500.0, 0.01)], _block(), 1, "components only"),
    ([fig("m", "modelled", 80.0, None, measured=False)], _block(), 0, "modelled"),
    ([], _block(), 0, "no power"),
])
def test_quality_levels(chosen: list, block: dict, level: int, reason: str | None) -> None:
    q = quality(chosen, block["valid_for_sizing"], block["idle_before_w"], block["idle_after_w"],
                block["crosschecks"])
    assert q.level == level
    if reason is None:
        assert q.reasons == []
    else:
        assert any(reason in r for r in q.reasons)


def test_scope_class() -> None:
    assert scope_class([fig("g0", "gpu:0", 1.0), fig("d", "dram:0", 1.0)]) == "components"
    assert scope_class([fig("n", "node", 1.0)]) == "node"
    assert scope_class([fig("m", "modelled", 1.0, measured=False)]) == "modelled"
    assert scope_class([]) is None


def test_idle_and_user_clocks_are_not_throttling() -> None:
    rs = [Reading(t=0.0, extra={"throttle_reasons": ["gpu_idle"], "sm_clock_mhz": 345}),
          Reading(t=0.1, extra={"throttle_reasons": ["applications_clocks_setting"], "sm_clock_mhz": 1980})]
    s = telemetry.summary(rs)
    assert s is not None and s.throttled is False
    assert s.throttle_reasons == {"applications_clocks_setting": 0.5, "gpu_idle": 0.5}
    clock = s.series["sm_clock_mhz"]
    assert (clock.min, clock.mean, clock.max) == (345.0, 1162.5, 1980.0)
    assert telemetry.summary([Reading(t=0.0)]) is None


def test_telemetry_series_keep_changes_at_most_twice_a_second() -> None:
    rs = [Reading(t=i * 0.1, extra={"temperature_c": 60 + (i >= 25), "sm_clock_mhz": 1980 - i % 2})
          for i in range(50)]
    s = telemetry.series(rs, 0.0)
    assert s["temperature_c"] == [[0.0, 60.0], [2.5, 61.0], [4.9, 61.0]]
    times = [t for t, _ in s["sm_clock_mhz"]]
    assert times[0] == 0.0 and times[-1] == 4.9 and len(times) <= 12
    assert all(b - a >= 0.5 - 1e-9 for a, b in zip(times[:-2], times[1:-1]))
