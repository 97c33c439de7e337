"""Declared result files: a vendor's published figures for hardware sitebench cannot run (ASIC miners).

A declared file is a ``sitebench.result/2`` document with ``"source":
"declared"``: one run, throughput and power as published, no samples, not
verified, the power's scope as the vendor states it (a miner's power is at
the wall). The declared tolerance is stored twice so sizing treats it like a
meter: as the declared meter's ``accuracy`` and as the throughput's p10/p90.
Validation, the leaderboard and ``sitebench size`` keep declared files apart
from measured ones.

A declared sweep (:func:`declared_sweep`, ``declare --point``) holds a vendor's curve: one run per
operating point, each carrying a :class:`bench.record.Setting` named by its declared power, so sizing
treats it as an operating envelope (:mod:`bench.sizing.frontier`), shown apart as DECLARED.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

from pydantic import ValidationError

from bench.errors import UsageError
from bench.record import (
    Document,
    Efficiency,
    MeterFigure,
    PowerBlock,
    Quality,
    Run,
    Setting,
    Submitter,
    System,
    Throughput,
    new_document,
)
from bench.record.io import first_error
from bench.record.power import ScopeClass
from bench.registry import load_workload_class, workload_names

SCOPES = ("wall", "node", "components")
DEFAULT_TOLERANCE = 0.05


def unit_of(workload: str, unit: str | None) -> str:
    """The workload's unit: ``unit`` when given, else the registered workload's."""
    if unit:
        return unit

    if workload in workload_names():
        return str(load_workload_class(workload).unit)
    raise UsageError(f"--workload {workload!r} is not a registered workload: give its --unit (e.g. hash, token)")


def _positive(name: str, value: float) -> float:
    if not (0 < value < math.inf):
        raise UsageError(f"{name} {value}: must be a positive number")
    return float(value)


def declared_document(model: str, workload: str, throughput: float, power_w: float, *, unit: str,
                      scope: str = "wall", tolerance: float = DEFAULT_TOLERANCE, note: str = "",
                      org: str = "", params: dict[str, Any] | None = None) -> Document:
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
    try:
        return _document(model, workload, throughput, power_w, unit, scope, tolerance, note, org, params)
    except ValidationError as exc:
        raise UsageError(f"the declared file would not be a valid result file: {first_error(exc)}") from None


#: The knob of a declared operating point: the vendor's curve names each point by its power.
DECLARED_KNOB = "declared.power"


@dataclass(frozen=True)
class DeclaredPoint:
    """One point of a vendor's curve: ``throughput`` units/s at ``power_w`` W; ``stock`` marks the default."""

    throughput: float
    power_w: float
    stock: bool = False


def parse_point(text: str) -> DeclaredPoint:
    """``"96e12@2850"`` or ``"96e12@2850:stock"`` as a point.

    Raises:
        UsageError: not THROUGHPUT@POWER_W[:stock], or a figure that is not a positive number.
    """
    body, _, flag = text.strip().partition(":")
    thr, at, watts = body.partition("@")
    if not at or flag not in ("", "stock"):
        raise UsageError(f"--point {text!r}: expected THROUGHPUT@POWER_W or THROUGHPUT@POWER_W:stock (96e12@2850:stock)")
    try:
        return DeclaredPoint(_positive("--point throughput", float(thr)), _positive("--point power", float(watts)),
                             flag == "stock")
    except ValueError:
        raise UsageError(f"--point {text!r}: {thr!r} and {watts!r} must be numbers (units/s and W)") from None


def declared_sweep(model: str, workload: str, points: list[DeclaredPoint], *, unit: str, scope: str = "wall",
                   tolerance: float = DEFAULT_TOLERANCE, note: str = "", org: str = "",
                   params: dict[str, Any] | None = None) -> Document:
    """A declared file holding a vendor's curve: one run per point, each with its :class:`Setting`
    (knob :data:`DECLARED_KNOB`, the declared power as the value, ``stock`` where marked), kept apart as
    declared like any declared file.

    Raises:
        UsageError: fewer than two points, two at the same power, more than one marked stock, or any
            figure :func:`declared_document` refuses.
    """
    if len(points) < 2:
        raise UsageError("--point: a declared sweep needs at least two points (one --point per operating point)")
    if len({p.power_w for p in points}) < len(points):
        raise UsageError("--point: two points at the same power; each operating point is named by its power")
    if sum(p.stock for p in points) > 1:
        raise UsageError("--point: more than one point marked :stock")
    docs = [declared_document(model, workload, p.throughput, p.power_w, unit=unit, scope=scope, tolerance=tolerance,
                              note=note, org=org, params=params) for p in points]
    runs = [d.runs[0].model_copy(update={"setting": Setting(
        knob=DECLARED_KNOB, target="declared", unit="W", requested=p.power_w, stock=p.stock,
        notes=["a vendor's declared operating point, not measured"])}) for d, p in zip(docs, points)]
    return docs[0].model_copy(update={"runs": runs})


def _document(model: str, workload: str, throughput: float, power_w: float, unit: str, scope: str,
              tolerance: float, note: str, org: str, params: dict[str, Any] | None) -> Document:
    meter = MeterFigure(name="declared", kind="declared", scope=scope, method="declared", measured=False,
                        accuracy=tolerance, avg_w=power_w,
                        accuracy_note=(f"vendor-declared figure, tolerance ±{tolerance:.0%}"
                                       + (f"; {note}" if note else ""))[:2000])
    run = Run(
        workload=workload, device="declared", params=dict(params or {}), status="ok", verified=False, unit=unit,
        throughput=Throughput(unit=f"{unit}/s", rate=throughput, median=throughput,
                              p10=throughput * (1 - tolerance), p90=throughput * (1 + tolerance)),
        power=PowerBlock(avg_w=power_w, scope=scope, scope_class=cast(ScopeClass, scope), measured=False,
                         meters=[meter],
                         valid_for_sizing=True, quality=Quality(level=0, reasons=["declared, not measured"])),
        efficiency=Efficiency(per_joule=throughput / power_w, unit=f"{unit}/J"),
    )
    return new_document(System(model=model, note=note or None), [run], source="declared",
                        submitter=Submitter(org=org) if org else None)
