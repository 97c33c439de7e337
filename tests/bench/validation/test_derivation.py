"""Forged power blocks, declared figures, interrupted runs and fleet totals are refused: each is rebuilt
from what it is made of."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.record import from_json
from bench.sizing.declare import declared_document
from tests.bench.conftest import check
from tests.records import document, meter, run


def _paths(obj: dict[str, Any], name: str) -> list[str]:
    return [f.path for f in check(obj) if f.check == name and f.level == "error"]


def test_energy_halved_beside_its_meters_is_refused(doc: dict[str, Any]) -> None:
    p = doc["runs"][0]["power"]
    p["energy_j"] /= 2
    p["avg_w"] /= 2
    p["window_energy_j"] = [e / 2 for e in p["window_energy_j"]]
    p["trace"] = []
    doc["runs"][0]["efficiency"]["per_joule"] *= 2
    assert "$.runs[0].power.energy_j" in _paths(doc, "power-derivation")


def test_a_modelled_run_relabelled_as_a_wall_meter_is_refused(doc: dict[str, Any]) -> None:
    p = doc["runs"][0]["power"]
    p.update(scope_class="wall", measured=True)
    p["quality"]["level"] = 3
    paths = _paths(doc, "power-derivation")
    assert {"$.runs[0].power.scope_class", "$.runs[0].power.measured", "$.runs[0].power.quality.level"} <= set(paths)


def test_a_used_meter_without_its_trace_is_refused(doc: dict[str, Any]) -> None:
    for m in doc["runs"][1]["power"]["meters"]:
        m["trace"] = []
    assert any(p.endswith(".trace") for p in _paths(doc, "power-derivation"))


def test_a_declared_efficiency_must_be_throughput_over_power(tmp_path: Path) -> None:
    obj = declared_document("Miner", "sha256d", 234e12, 3531.0, unit="hash").to_json()
    assert check(obj) == []
    obj["runs"][0]["efficiency"]["per_joule"] = 1e12  # type: ignore[index]
    assert _paths(obj, "declared") == ["$.runs[0].efficiency.per_joule"]


def test_an_interrupted_run_is_recomputed_like_any_other(doc: dict[str, Any]) -> None:
    r = doc["runs"][0]
    r["status"] = "interrupted"
    r["efficiency"]["per_joule"] *= 100
    assert "$.runs[0].efficiency.per_joule" in _paths(doc, "efficiency")
    r["throughput"].update(samples=[], units=[], durations_s=[])
    assert "$.runs[0]" in _paths(doc, "no-samples")


def test_forged_fleet_totals_are_refused() -> None:
    runs = [run("sha256d", f"cuda:{k}", 10.0, 600.0, meters=[meter(f"gpu:{k}", 600.0)], scope=f"gpu:{k}",
                rank=k, node="n0") for k in range(2)]
    from bench.measure.totals import totals
    from bench.record import Fleet, FleetNode, System

    doc = document(runs)
    doc.fleet = Fleet(world_size=2, nodes={"n0": FleetNode(ranks=[0, 1], system=System())}, totals=totals(runs))
    obj = json.loads(json.dumps(doc.to_json()))
    assert _paths(obj, "fleet-totals") == []
    obj["fleet"]["totals"]["sha256d"]["throughput"] *= 10
    assert _paths(obj, "fleet-totals") == ["$.fleet.totals.sha256d"]
    assert from_json(obj).fleet is not None


def test_a_peak_below_the_trace_is_refused(doc: dict[str, Any]) -> None:
    doc["runs"][0]["power"]["meters"][0]["peak_w"] = 0.5
    doc["runs"][0]["power"]["peak_w"] = 0.5
    assert {"$.runs[0].power.meters[0].peak_w", "$.runs[0].power.peak_w"} <= set(_paths(doc, "peaks"))
