"""Quality levels and scope classes of a power figure, from hand-built meter figures."""

from __future__ import annotations

import pytest

from bench.power.window.quality import quality, scope_class
from tests.bench.power.window.test_crosscheck import fig


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
