"""Builders for hand-made runs and result files that the sizing tests size."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.record import (
    Document,
    Efficiency,
    MeterFigure,
    Phase,
    PowerBlock,
    Quality,
    Run,
    System,
    Throughput,
    new_document,
    write_result,
)


def make_run(*, median: float = 100.0, p10: float | None = 90.0, p90: float | None = 110.0,
             avg_w: float | None = 500.0, scope: str = "node", measured: bool = True,
             accuracy: float | None = 0.05, unit: str = "hash", workload: str = "sha256d",
             status: str = "ok", scope_class: str | None = None, valid_for_sizing: bool = True,
             invalid_reasons: list[str] | None = None, trace: list[list[float]] | None = None,
             phases: list[Phase] | None = None, quality: int = 2, samples: list[float] | None = None) -> Run:
    """One valid run whose throughput (``rate`` = ``median``) and power are exactly what the test says."""
    meters = [MeterFigure(name=f"m-{part}", kind="test", scope=part, method="counter", measured=measured,
                          accuracy=accuracy, accuracy_note="test meter", update_period_s=0.1, avg_w=avg_w)
              for part in scope.split("+")]
    parts = set(scope.split("+"))
    cls = scope_class or ("modelled" if not measured else "wall" if "wall" in parts else
                          "node" if "node" in parts else "components")
    return Run(
        workload=workload, device="cpu", status=status, verified=status == "ok", unit=unit,
        throughput=Throughput(unit=f"{unit}/s", rate=median, median=median, p10=p10, p90=p90,
                              samples=samples if samples is not None else [median]),
        power=PowerBlock(avg_w=avg_w, scope=scope, scope_class=cls if avg_w is not None else None, measured=measured,
                         meters=meters, trace=trace or [], valid_for_sizing=valid_for_sizing and avg_w is not None,
                         invalid_reasons=invalid_reasons or [], quality=Quality(level=quality)),
        efficiency=Efficiency(per_joule=median / avg_w if avg_w else None, unit=f"{unit}/J"),
        phases=phases or [],
    )


def make_doc(*runs: Run, cpu: str = "Test CPU 9000") -> Document:
    """A measured result document holding ``runs``."""
    return new_document(System.model_validate({"hostname": "h", "cpu": {"model": cpu}}), list(runs))


@pytest.fixture
def run_factory() -> Callable[..., Run]:
    """:func:`make_run`."""
    return make_run


@pytest.fixture
def write_doc(tmp_path: Path) -> Callable[..., Path]:
    """Write a result document holding the given runs; returns its path."""
    def write(*runs: Run, name: str = "r.json", doc: Any = None) -> Path:
        path = tmp_path / name
        if doc is not None:
            import json

            path.write_text(json.dumps(doc.to_json() if isinstance(doc, Document) else doc))
            return path
        write_result(path, make_doc(*runs))
        return path
    return write
