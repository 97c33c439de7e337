"""Which meters make a run's power: the widest measured scope, components all or nothing."""

from __future__ import annotations


def test_primary_takes_components_all_or_nothing() -> None:
    from bench.power.window.energy import missing_components, primary
    from bench.record import MeterFigure

    def fig(scope: str, valid: bool = True, energy: float | None = 10.0) -> MeterFigure:
        return MeterFigure(name=scope, kind="test", scope=scope, method="test", measured=True, valid=valid,
                           energy_j=energy, avg_w=energy)

    g0, g1, node = fig("gpu:0"), fig("gpu:1", valid=False), fig("node")
    assert primary([g0, g1, node]) == [node], "a valid node meter wins"
    assert primary([g0, g1]) == [g0, g1], "a refused GPU stays in the sum (and refuses the run)"
    silent = fig("gpu:1", energy=None)
    assert primary([g0, silent]) == [g0] and missing_components([g0, silent], [g0]) == [silent]
    assert missing_components([g0, node], [node]) == []
