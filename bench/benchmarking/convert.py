"""pytest-benchmark JSON to ``sitebench.result`` documents.

A benchmark recorded by sitebench's plugin carries its run record in
``extra_info["sitebench_run"]`` (built by the runner's own code): that record
is taken as it is. A benchmark without one (a plain pytest-benchmark test
that names its ``unit`` and ``units_per_round`` in ``extra_info``) becomes a
run whose windows are the timed rounds, with no power.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bench.errors import InvalidResultFile
from bench.measure.runrecord import RunHead, measured_run
from bench.record import Document, Run, System, from_json, new_document, parse_json, read_text
from bench.record.io import first_error


def benchmark_to_run(bench: dict[str, Any], where: str = "<benchmark json>") -> Run:
    """One pytest-benchmark entry -> one sitebench run.

    Raises:
        InvalidResultFile: a recorded run that fails the record's types, or no round timings.
    """
    info = bench.get("extra_info") or {}
    name = str(bench.get("name"))[:200]
    if isinstance(info.get("sitebench_run"), dict):
        try:
            return Run.model_validate(info["sitebench_run"])
        except ValidationError as exc:
            raise InvalidResultFile(where, f"$.benchmarks[{name!r}].extra_info.sitebench_run",
                                    first_error(exc)) from None
    stats = bench.get("stats") or {}
    durations = [float(t) for t in (stats.get("data") or [stats.get("median")]) if isinstance(t, (int, float)) and t]
    if not durations:
        raise InvalidResultFile(where, f"$.benchmarks[{name!r}].stats", "no round timings")
    per_round = float(info.get("units_per_round", 1.0))
    unit = str(info.get("unit", "round"))
    head = RunHead(workload=str(info.get("workload") or bench.get("group") or name)[:200],
                   device=str(info.get("device", "cpu"))[:200], unit=unit,
                   params=dict(info.get("params") or {}), preset=info.get("preset"))
    return measured_run(head, [per_round] * len(durations), durations, verified=bool(info.get("verified", True)))


def to_result(bench_json: dict[str, Any], system: System | None = None, where: str = "<benchmark json>") -> Document:
    """A whole pytest-benchmark JSON document -> a result document."""
    if not isinstance(bench_json, dict) or not isinstance(bench_json.get("benchmarks"), list):
        raise InvalidResultFile(where, "$.benchmarks", "not a pytest-benchmark JSON document (no 'benchmarks' list)")
    try:
        runs = [benchmark_to_run(b, where) for b in bench_json["benchmarks"] if isinstance(b, dict)]
    except (TypeError, ValueError, ValidationError) as exc:
        raise InvalidResultFile(where, "$.benchmarks", f"not usable pytest-benchmark JSON ({exc})"[:300]) from None
    return new_document(system if system is not None else System(), runs)


def is_benchmark_json(doc: Any) -> bool:
    """True for pytest-benchmark JSON (a ``benchmarks`` list, no sitebench schema id)."""
    return isinstance(doc, dict) and "schema" not in doc and isinstance(doc.get("benchmarks"), list)


def load_either(path: str) -> Document:
    """A result file, or pytest-benchmark JSON converted to one.

    Raises:
        UsageError: unreadable file. InvalidResultFile: neither kind of document.
    """

    obj = parse_json(read_text(path), path)
    if is_benchmark_json(obj):
        return to_result(obj, where=path)
    return from_json(obj, path)
