"""Plausibility: over-ceiling throughput and impossible GPU power are flagged; declared files pass."""

from __future__ import annotations

from typing import Any

from bench.hardware import gpu_tdp_w
from tests.bench.conftest import check


def test_over_ceiling_flagged(doc: dict[str, Any]) -> None:
    run = doc["runs"][0]
    assert isinstance(run["ceiling"], float)
    run["ceiling"] = run["throughput"]["median"] / 2
    run["ceiling_fraction"] = run["throughput"]["rate"] / run["ceiling"]
    assert any(f.check == "ceiling" and f.path == "$.runs[0].throughput.median" for f in check(doc))
    assert any(f.check == "ceiling" and f.path == "$.runs[0].throughput.rate" for f in check(doc))


def test_gpu_power_over_tdp_flagged(doc: dict[str, Any]) -> None:
    doc["system"]["gpus"] = [{"index": 0, "name": "NVIDIA H100 80GB HBM3"}]
    doc["runs"][0]["power"]["meters"][0]["scope"] = "gpu:0"
    doc["runs"][0]["power"]["meters"][0]["avg_w"] = 2000.0
    msgs = [f.message for f in check(doc) if f.check == "gpu-power"]
    assert len(msgs) == 1 and "700 W TDP" in msgs[0]


def test_tdp_by_nvml_name() -> None:
    assert gpu_tdp_w("NVIDIA H100 80GB HBM3") == 700.0
    assert gpu_tdp_w("NVIDIA H100 PCIe") == 350.0
    assert gpu_tdp_w("Tesla T4") is None


def test_provenance(doc: dict[str, Any]) -> None:
    doc["runs"][1]["verified"] = False
    assert {f.path for f in check(doc) if f.check == "provenance"} == {"$.runs[1].verified"}
    doc["runs"][0]["power"]["meters"][0]["method"] = ""
    doc["harness"]["version"] = ""
    paths = {f.path for f in check(doc) if f.check == "schema"}  # the types require both
    assert paths == {"$.harness.version", "$.runs[0].power.meters[0].method"}


def test_declared_file_skips_measurement_checks(doc: dict[str, Any]) -> None:
    doc["source"] = "declared"
    for run in doc["runs"]:
        run["verified"] = False
        run["throughput"]["samples"] = []
        run["efficiency"]["per_joule"] = run["throughput"]["rate"] / run["power"]["avg_w"]
        run["throughput"]["median"] = run["throughput"]["rate"]
        run["power"].update(measured=False, scope="wall", scope_class="wall")
        run["power"]["meters"][0]["readings"] = 0
    assert check(doc) == []


def test_phases_not_monotonic(doc: dict[str, Any]) -> None:
    ph = doc["runs"][0]["phases"]
    ph[1]["start"], ph[1]["end"] = ph[1]["end"], ph[1]["start"]
    assert [f.path for f in check(doc) if f.check == "phases"] == ["$.runs[0].phases[1]"]


def test_power_average_mismatch(doc: dict[str, Any]) -> None:
    doc["runs"][0]["power"]["avg_w"] *= 1.1
    assert [f.path for f in check(doc) if f.check == "power"] == ["$.runs[0].power.avg_w"]
