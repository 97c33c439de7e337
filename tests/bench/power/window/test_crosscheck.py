"""Cross-checks of nested meters and the quality levels, on hand-built meter figures."""

from __future__ import annotations

import pytest

from bench.power.window.crosscheck import crosscheck
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
