"""Convert pytest-benchmark JSON to ``sitebench.result/1`` documents and back.

Each entry of a benchmark's ``stats.data`` (one timed round) becomes one
throughput sample: ``units_per_round / seconds``, with ``units_per_round`` and
``unit`` taken from the benchmark's ``extra_info``. Power and efficiency in
``extra_info`` become the run's ``power`` and ``efficiency`` blocks.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.errors import InvalidResultFile

_NO_POWER = {"avg_w": None, "energy_j": None, "scope": None, "measured": False, "meters": []}


def _throughput(samples: list[float], units: list[float], durations: list[float], unit: str) -> dict[str, Any]:
    return {"median": statistics.median(samples), "mean": statistics.fmean(samples),
            "min": min(samples), "max": max(samples), "samples": samples,
            "units": units, "durations_s": durations, "unit": f"{unit}/s"}


def _power(info: dict[str, Any]) -> dict[str, Any]:
    p = info.get("power")
    if not isinstance(p, dict):
        return dict(_NO_POWER)
    meters = [dict(m) if isinstance(m, dict) else {"name": str(m), "scope": p.get("scope")}
              for m in p.get("meters") or []]
    return {**_NO_POWER, **{k: p[k] for k in ("avg_w", "energy_j", "scope", "window_s") if k in p},
            "measured": bool(p.get("measured")), "meters": meters,
            "valid_for_sizing": bool(p.get("valid", True)),
            "invalid_reasons": [] if p.get("valid", True) else ["the power window of the benchmark rounds was refused"]}


def benchmark_to_run(bench: dict[str, Any]) -> dict[str, Any]:
    """One pytest-benchmark entry -> one sitebench run (timed rounds as samples)."""
    info = bench.get("extra_info") or {}
    stats = bench.get("stats") or {}
    durations = [float(t) for t in (stats.get("data") or [stats.get("median")]) if t]
    if not durations:
        raise InvalidResultFile("<benchmark json>", f"$.benchmarks[{bench.get('name')!r}].stats", "no round timings")
    per_round = float(info.get("units_per_round", 1.0))
    unit = str(info.get("unit", "round"))
    samples = [per_round / t for t in durations]
    eff = info.get("efficiency") if isinstance(info.get("efficiency"), dict) else {}
    return {"workload": str(info.get("workload") or bench.get("group") or bench.get("name")),
            "device": str(info.get("device", "cpu")), "params": dict(info.get("params") or {}),
            "preset": info.get("preset", "ci"), "verified": bool(info.get("verified", True)),
            "unit": unit, "status": "ok", "error": None,
            "throughput": _throughput(samples, [per_round] * len(samples), durations, unit),
            "power": _power(info),
            "efficiency": {"per_joule": eff.get("per_joule"), "unit": f"{unit}/J"}}


def to_result(bench_json: dict[str, Any], system: dict[str, Any] | None = None) -> dict[str, Any]:
    """A whole pytest-benchmark JSON document -> a ``sitebench.result/1`` document."""
    from bench.resultfile import new_document
    if not isinstance(bench_json, dict) or not isinstance(bench_json.get("benchmarks"), list):
        raise InvalidResultFile("<benchmark json>", "$.benchmarks", "not a pytest-benchmark JSON document (no 'benchmarks' list)")
    runs = [benchmark_to_run(b) for b in bench_json["benchmarks"] if isinstance(b, dict)]
    return new_document(system if system is not None else {}, runs)


def _extra_info(run: dict[str, Any]) -> dict[str, Any]:
    units = (run.get("throughput") or {}).get("units") or [1.0]
    info = {"workload": run["workload"], "device": run["device"], "params": run.get("params") or {},
            "preset": run.get("preset"), "verified": run.get("verified", True), "unit": run.get("unit"),
            "units_per_round": float(units[0])}
    p = run.get("power") or {}
    if p.get("energy_j") is not None:
        info["power"] = {**{k: p.get(k) for k in ("avg_w", "energy_j", "scope", "window_s", "measured")},
                         "modelled": not p.get("measured"),
                         "meters": [m for m in p.get("meters") or [] if isinstance(m, dict)]}
        info["efficiency"] = dict(run.get("efficiency") or {})
    return info


def from_result(doc: dict[str, Any]) -> dict[str, Any]:
    """A ``sitebench.result/1`` document -> pytest-benchmark-shaped JSON (round times as data)."""
    benches = []
    for run in doc.get("runs", []):
        data = [float(d) for d in (run.get("throughput") or {}).get("durations_s") or []]
        benches.append({
            "group": run["workload"], "name": f"test_workload[{run['workload']}-{run['device']}]",
            "extra_info": _extra_info(run),
            "stats": {"data": data, "median": statistics.median(data) if data else None,
                      "rounds": len(data)}})
    return {"benchmarks": benches}


def is_benchmark_json(doc: Any) -> bool:
    """True for pytest-benchmark JSON (a ``benchmarks`` list, no sitebench schema id)."""
    return isinstance(doc, dict) and "schema" not in doc and isinstance(doc.get("benchmarks"), list)


def load_either(path: str) -> dict[str, Any]:
    """A ``sitebench.result/1`` file, or pytest-benchmark JSON converted to one.

    Raises:
        UsageError: unreadable file. InvalidResultFile: neither kind of document.
    """
    from bench.resultfile import load, require_schema

    doc = load(path, check_schema=False)
    if is_benchmark_json(doc):
        try:
            return to_result(doc)
        except (InvalidResultFile, TypeError, ValueError, KeyError, AttributeError) as exc:
            raise InvalidResultFile(path, "$.benchmarks", f"not usable pytest-benchmark JSON ({exc})") from None
    require_schema(doc, path)
    return doc
