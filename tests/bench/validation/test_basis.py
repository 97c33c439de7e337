"""A power figure must be recomputable from the phases, windows, meters and traces the file carries: a block
removed is a finding, not a way round the checks; a run that legitimately has no windows carries no power."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.benchmarking.convert import to_result
from tests.bench.conftest import check


def _errors(doc: dict[str, Any]) -> list[str]:
    return [f"{f.check} {f.path}" for f in check(doc) if f.level == "error"]


def _scale_energy(run: dict[str, Any], k: float) -> None:
    """Energy x k in every field that holds it: the block, each window, every meter, the efficiency."""
    p = run["power"]
    p["energy_j"] *= k
    p["avg_w"] *= k
    p["window_energy_j"] = [e * k for e in p["window_energy_j"]]
    for m in p["meters"]:
        m["energy_j"] *= k
        m["avg_w"] *= k
    run["efficiency"]["per_joule"] /= k


def _window_energies(run: dict[str, Any]) -> list[float]:
    """Each window's energy from the run's trace (numpy's own trapezoid)."""
    t, w = np.array(run["power"]["trace"], dtype=float).T
    out = []
    for ph in run["phases"]:
        if ph["name"].startswith("window-"):
            grid = np.concatenate([[ph["start"]], t[(t > ph["start"]) & (t < ph["end"])], [ph["end"]]])
            out.append(float(np.trapezoid(np.interp(grid, t, w), grid)))
    return out


def test_the_recorded_file_rests_on_what_it_carries(doc: dict[str, Any]) -> None:
    assert _errors(doc) == []


def test_phases_removed_and_energy_halved_everywhere_is_refused(doc: dict[str, Any], tmp_path: Path) -> None:
    for run in doc["runs"]:
        _scale_energy(run, 0.5)
        run.pop("phases")
    found = _errors(doc)
    assert "power-basis $.runs[0].phases" in found and "power-basis $.runs[1].phases" in found
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(doc))
    r = subprocess.run([sys.executable, "-m", "bench", "validate", str(path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "no phases, yet the run holds power figures" in r.stdout


def test_with_the_phases_kept_the_same_forgery_is_caught_by_the_trace(doc: dict[str, Any]) -> None:
    _scale_energy(doc["runs"][0], 0.5)
    assert {"energy-trace $.runs[0].power.energy_j", "energy-trace $.runs[0].power.meters[0].energy_j"} \
        <= set(_errors(doc))


def test_only_the_windows_removed_is_refused(doc: dict[str, Any]) -> None:
    run = doc["runs"][1]
    run["phases"] = [p for p in run["phases"] if not p["name"].startswith("window-")]
    (finding,) = [f for f in check(doc) if f.check == "power-basis"]
    assert finding.path == "$.runs[1].phases" and "no measured-window (window-N) phase" in finding.message


def test_traces_removed_are_refused(doc: dict[str, Any]) -> None:
    doc["runs"][0]["power"]["trace"] = []
    doc["runs"][1]["power"]["meters"][0]["trace"] = []
    found = _errors(doc)
    assert "energy-trace $.runs[0].power.energy_j" in found
    assert "power-derivation $.runs[1].power.meters[0].trace" in found


def test_a_refused_meter_still_needs_its_trace(doc: dict[str, Any]) -> None:
    p = doc["runs"][0]["power"]
    p["meters"][0].update(valid=False, invalid_reasons=["refused for the test"], trace=[])
    p.update(valid_for_sizing=False, invalid_reasons=["refused for the test"])
    assert "power-derivation $.runs[0].power.meters[0].trace" in _errors(doc)


def test_meters_removed_are_refused(doc: dict[str, Any]) -> None:
    doc["runs"][0]["power"]["meters"] = []
    assert "power-derivation $.runs[0].power.energy_j" in _errors(doc)


def test_a_trace_that_covers_half_the_window(doc: dict[str, Any]) -> None:
    run = doc["runs"][0]
    wins = [p for p in run["phases"] if p["name"].startswith("window-")]
    middle = (wins[0]["start"] + wins[-1]["end"]) / 2
    p = run["power"]
    for holder in (p, p["meters"][0]):
        holder["trace"] = [pt for pt in holder["trace"] if pt[0] <= middle]
    found = _errors(doc)
    assert "energy-trace $.runs[0].power.energy_j" in found  # marked valid, so it must cover the window
    # refused by the harness and not valid for sizing: the energy is the trace's over what it covers
    p["meters"][0].update(valid=False, invalid_reasons=["readings cover 50% of the window"])
    p.update(valid_for_sizing=False, invalid_reasons=["model:cpu: readings cover 50% of the window"])
    assert "energy-trace $.runs[0].power.energy_j" in _errors(doc), "the energy is still the whole window's"
    t, w = np.array(p["trace"], dtype=float).T
    grid = np.concatenate([[wins[0]["start"]], t[t > wins[0]["start"]]])
    half = float(np.trapezoid(np.interp(grid, t, w), grid))
    _scale_energy(run, half / p["energy_j"])
    assert [f for f in _errors(doc) if f.startswith("energy-trace $.runs[0]")] == []


def test_window_energies_are_each_the_traces(doc: dict[str, Any]) -> None:
    run = doc["runs"][0]
    honest = _window_energies(run)
    run["power"]["window_energy_j"] = honest
    run["power"]["energy_j"] = sum(honest)  # within the meter's own figure's tolerance of the trace
    assert not [f for f in _errors(doc) if "window_energy_j" in f]
    run["power"]["window_energy_j"] = [honest[0] * 0.5, honest[1], honest[2] + honest[0] * 0.5]  # same sum
    found = _errors(doc)
    assert "energy-trace $.runs[0].power.window_energy_j[0]" in found
    assert "energy-trace $.runs[0].power.window_energy_j[2]" in found


def test_figures_without_their_energy_or_readings_are_refused(doc: dict[str, Any]) -> None:
    p = doc["runs"][0]["power"]
    for key in ("readings", "duration_s"):
        p["meters"][0].pop(key)
    p.pop("window_s")
    found = _errors(doc)
    assert {"power-basis $.runs[0].power.meters[0]", "power-basis $.runs[0].power.window_s"} <= set(found)
    q = doc["runs"][1]
    q["power"].pop("energy_j")
    assert "power-basis $.runs[1].power.energy_j" in _errors(doc)


def test_an_interrupted_run_with_windows_is_held_to_its_trace(doc: dict[str, Any]) -> None:
    run = doc["runs"][1]
    run["status"] = "interrupted"
    _scale_energy(run, 2.0)
    assert "energy-trace $.runs[1].power.energy_j" in _errors(doc)


def test_a_converted_run_without_windows_carries_no_power_and_validates() -> None:
    bench = {"benchmarks": [{"group": "g", "name": "test_x", "extra_info": {"unit": "hash", "units_per_round": 10.0},
                             "stats": {"data": [0.5, 0.25, 1.0]}}]}
    obj = json.loads(json.dumps(to_result(bench).to_json()))
    assert obj["runs"][0].get("phases", []) == [] and _errors(obj) == []
    run = obj["runs"][0]  # a power figure added to it has nothing to be recomputed over
    run["power"].update(avg_w=10.0, energy_j=17.5, window_s=1.75, valid_for_sizing=True, measured=True)
    run["efficiency"]["per_joule"] = sum(run["throughput"]["units"]) / 17.5
    (finding,) = [f for f in check(obj) if f.check == "power-basis"]
    assert finding.path == "$.runs[0].phases" and "a run without windows carries no power figure" in finding.message
    run["power"] = {"measured": False, "valid_for_sizing": True}  # no figure, but claimed usable for sizing
    run["efficiency"].pop("per_joule")
    assert _errors(obj) == ["power-basis $.runs[0].phases"]


def test_a_declared_file_keeps_its_own_rules() -> None:
    from bench.sizing.declare import declared_document

    obj = declared_document("Miner", "sha256d", 234e12, 3531.0, unit="hash").to_json()
    assert check(obj) == []
