"""Building valid typed run records for tests, figures consistent the way the runner makes them."""

from __future__ import annotations

from typing import Any

from bench.measure.runrecord import RunHead, measured_run
from bench.record import Document, MeterFigure, Phase, PowerBlock, Quality, Run, System, new_document, no_power


def meter(scope: str, watts: float | None, seconds: float = 3.0, *, accuracy: float | None = 0.02,
          measured: bool = True, name: str | None = None, **kw: Any) -> MeterFigure:
    """A meter figure that read ``watts`` over ``seconds``."""
    return MeterFigure(name=name or f"test:{scope}", kind="test", scope=scope, method="counter", measured=measured,
                       accuracy=accuracy, update_period_s=0.01, readings=int(seconds * 100),
                       energy_j=None if watts is None else watts * seconds, avg_w=watts, peak_w=watts,
                       duration_s=seconds if watts is not None else None,
                       energy_method="counter difference" if watts is not None else None, **kw)


def run(workload: str = "w", device: str = "cpu", rate: float = 10.0, watts: float | None = 100.0, *,
        unit: str = "hash", windows: int = 3, window_s: float = 1.0, meters: list[MeterFigure] | None = None,
        scope: str = "node", scope_class: str | None = None, valid: bool = True, spread: float = 0.0,
        **fields: Any) -> Run:
    """An ok, verified run of ``windows`` contiguous windows at ``rate`` units/s drawing ``watts`` W.

    ``spread`` makes the windows' rates differ by +-that fraction (first window low, last high).
    """
    factors = [1 + spread * (2 * i / (windows - 1) - 1) if windows > 1 else 1.0 for i in range(windows)]
    units = [rate * window_s * f for f in factors]
    durations = [window_s] * windows
    phases = [Phase(name=f"window-{i}", start=i * window_s, end=(i + 1) * window_s) for i in range(windows)]
    span = window_s * windows
    if watts is None:
        power = no_power()
    else:
        ms = meters if meters is not None else [meter(scope, watts, span)]
        cls = scope_class or (scope if scope in ("wall", "node") else "components")
        power = PowerBlock(avg_w=watts, energy_j=watts * span, peak_w=watts, idle_before_w=watts / 2,
                           idle_after_w=watts / 2, scope=scope, scope_class=cls, measured=cls != "modelled",
                           window_s=span, window_energy_j=[watts * window_s] * windows, valid_for_sizing=valid,
                           invalid_reasons=[] if valid else ["refused for the test"],
                           quality=Quality(level=2 if valid else 1), meters=ms,
                           trace=[[t * window_s / 2, watts] for t in range(2 * windows + 1)])
    head = RunHead(workload=workload, device=device, unit=unit)
    out = measured_run(head, units, durations, power=power, phases=phases)
    return out.model_copy(update=fields) if fields else out


def document(runs: list[Run], **system: Any) -> Document:
    """A measured document holding ``runs``."""
    return new_document(System(**({"hostname": "h"} | system)), runs)
