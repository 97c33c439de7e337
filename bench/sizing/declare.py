"""Declared result files: a vendor's published figures for hardware sitebench cannot run (ASIC miners).

A declared file is a ``sitebench.result/1`` document with ``"source":
"declared"``: one run, throughput and power as published, no samples, not
verified, the power's scope as the vendor states it (a miner's power is at
the wall). The declared tolerance is stored twice so sizing treats it like a
meter: as the declared meter's ``accuracy`` and as the throughput's p10/p90.
Validation, the leaderboard and ``sitebench size`` keep declared files apart
from measured ones.
"""

from __future__ import annotations

import math
import re
from typing import Any

from bench.errors import UsageError
from bench.resultfile import new_document

SCOPES = ("wall", "node", "components")
DEFAULT_TOLERANCE = 0.05


def unit_of(workload: str, unit: str | None) -> str:
    """The workload's unit: ``unit`` when given, else the registered workload's."""
    if unit:
        return unit
    from bench.registry import load_workload_class, workload_names

    if workload in workload_names():
        return str(load_workload_class(workload).unit)
    raise UsageError(f"--workload {workload!r} is not a registered workload: give its --unit (e.g. hash, token)")


def _positive(name: str, value: float) -> float:
    if not (0 < value < math.inf):
        raise UsageError(f"{name} {value}: must be a positive number")
    return float(value)


def slug(text: str) -> str:
    """``"Bitmain Antminer S21 Pro"`` -> ``"bitmain-antminer-s21-pro"`` (a safe file name)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "declared"


def declared_document(model: str, workload: str, throughput: float, power_w: float, *, unit: str,
                      scope: str = "wall", tolerance: float = DEFAULT_TOLERANCE, note: str = "",
                      org: str = "", params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A declared result document for ``model``: ``throughput`` in units/s at ``power_w`` W.

    Raises:
        UsageError: on a non-positive figure, an unknown scope or a tolerance outside [0, 1).
    """
    if not model.strip():
        raise UsageError("--model must not be empty")
    if not workload.strip() or not unit.strip():
        raise UsageError("--workload and --unit must not be empty")
    throughput = _positive("--throughput", throughput)
    power_w = _positive("--power-w", power_w)
    if scope not in SCOPES:
        raise UsageError(f"--scope {scope!r}: expected one of {', '.join(SCOPES)}")
    if not (0 <= tolerance < 1):
        raise UsageError(f"--tolerance {tolerance}: must be a fraction in [0, 1)")
    meter = {"name": "declared", "kind": "declared", "scope": scope, "method": "declared",
             "measured": False, "accuracy": tolerance,
             "accuracy_note": f"vendor-declared figure, tolerance ±{tolerance:.0%}" + (f"; {note}" if note else ""),
             "energy_j": None, "avg_w": power_w}
    run = {
        "workload": workload, "device": "declared", "params": params or {}, "preset": None,
        "status": "ok", "error": None, "verified": False, "unit": unit,
        "throughput": {"median": throughput, "p10": throughput * (1 - tolerance),
                       "p90": throughput * (1 + tolerance), "samples": [], "unit": f"{unit}/s"},
        "power": {"avg_w": power_w, "energy_j": None, "peak_w": None, "idle_w": None, "scope": scope,
                  "scope_class": scope, "measured": False, "meters": [meter], "trace": []},
        "efficiency": {"per_joule": throughput / power_w, "unit": f"{unit}/J"},
        "ceiling": None, "ceiling_fraction": None, "phases": [], "metrics": {},
    }
    system = {"model": model, "declared": True}
    if note:
        system["note"] = note
    doc = new_document(system, [run], submitter={"org": org} if org else {})
    doc["source"] = "declared"
    from bench.resultfile import schema_errors

    problems = schema_errors(doc)
    if problems:
        raise UsageError(f"the declared file would not be a valid result file: {problems[0][0]}: {problems[0][1]}")
    return doc
