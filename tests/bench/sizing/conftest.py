"""Builders for hand-made runs and result files that the sizing tests size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from bench.resultfile import new_document, write_result


def make_run(*, median: float = 100.0, p10: float | None = 90.0, p90: float | None = 110.0,
             avg_w: float | None = 500.0, scope: str = "node", measured: bool = True,
             accuracy: float | None = 0.05, unit: str = "hash", workload: str = "sha256d",
             status: str = "ok", **power_extra: Any) -> dict[str, Any]:
    """One schema-valid run whose throughput and power are exactly what the test says."""
    meters = [{"name": f"m-{part}", "kind": "test", "scope": part, "method": "counter", "measured": measured,
               "accuracy": accuracy, "accuracy_note": "test meter", "update_period_s": 0.1}
              for part in scope.split("+")]
    thr: dict[str, Any] = {"median": median, "samples": [median], "unit": f"{unit}/s"}
    if p10 is not None:
        thr["p10"] = p10
    if p90 is not None:
        thr["p90"] = p90
    return {
        "workload": workload, "device": "cpu", "params": {}, "status": status, "verified": status == "ok",
        "unit": unit, "throughput": thr,
        "power": {"avg_w": avg_w, "energy_j": None, "scope": scope, "measured": measured, "meters": meters,
                  "trace": [], **power_extra},
        "efficiency": {"per_joule": median / avg_w if avg_w else None, "unit": f"{unit}/J"},
    }


def make_doc(*runs: dict[str, Any], cpu: str = "Test CPU 9000") -> dict[str, Any]:
    """A measured result document holding ``runs``."""
    return new_document({"hostname": "h", "cpu": {"model": cpu}, "gpus": []}, list(runs))


@pytest.fixture
def run_factory() -> Callable[..., dict[str, Any]]:
    """:func:`make_run`."""
    return make_run


@pytest.fixture
def write_doc(tmp_path: Path) -> Callable[..., Path]:
    """Write a result document holding the given runs; returns its path."""
    def write(*runs: dict[str, Any], name: str = "r.json", doc: dict[str, Any] | None = None) -> Path:
        path = tmp_path / name
        if doc is not None:
            path.write_text(json.dumps(doc))
            return path
        write_result(path, make_doc(*runs))
        return path
    return write
