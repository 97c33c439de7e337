"""Qualification specs (TOML): parsing and validation; bad specs raise UsageError.

Tables: ``[spec]`` (name, gpus_per_node), ``[workloads.NAME]`` (min_throughput, min_efficiency per
GPU), ``[power]`` (max_gpu_w, max_node_w), ``[throttling]`` (allowed), ``[outliers]`` (fail, k,
min_rel_gap) and, for ASIC miners, ``[miners]`` (min_ths, max_j_per_th, max_missing_chips,
max_temp_c, max_hw_error_rate: :mod:`bench.qualify.miners`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.qualify.miners import MinerRules, parse_rules
from bench.qualify.outliers import K_MAD, MIN_REL_GAP

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class WorkloadRule:
    """Per-GPU minimums for one workload (None: not checked)."""

    min_throughput: float | None = None
    min_efficiency: float | None = None


@dataclass(frozen=True)
class Spec:
    """What a GPU, a node and a fleet must meet."""

    name: str
    workloads: dict[str, WorkloadRule] = field(default_factory=dict)
    max_gpu_w: float | None = None
    max_node_w: float | None = None
    gpus_per_node: int | None = None
    allow_throttling: bool = False
    outliers_fail: bool = True
    k: float = K_MAD
    min_rel_gap: float = MIN_REL_GAP
    miners: MinerRules = field(default_factory=MinerRules)


def _num(table: dict[str, Any], key: str, where: str, positive: bool = True) -> float | None:
    v = table.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (positive and v <= 0):
        raise UsageError(f"spec: {where}.{key} must be a positive number, got {v!r}")
    return float(v)


def _known(table: dict[str, Any], keys: set[str], where: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise UsageError(f"spec: unknown key {where}.{unknown[0]} (known: {', '.join(sorted(keys))})")


def parse_spec(data: dict[str, Any]) -> Spec:
    """A Spec from parsed TOML; one clear UsageError on anything wrong."""
    _known(data, {"spec", "workloads", "power", "throttling", "outliers", "miners"}, "<top>")
    head = data.get("spec", {})
    _known(head, {"name", "gpus_per_node"}, "spec")
    wls: dict[str, WorkloadRule] = {}
    for name, rule in (data.get("workloads") or {}).items():
        if not isinstance(rule, dict):
            raise UsageError(f"spec: workloads.{name} must be a table")
        _known(rule, {"min_throughput", "min_efficiency"}, f"workloads.{name}")
        wls[name] = WorkloadRule(_num(rule, "min_throughput", f"workloads.{name}"),
                                 _num(rule, "min_efficiency", f"workloads.{name}"))
    power = data.get("power", {})
    _known(power, {"max_gpu_w", "max_node_w"}, "power")
    thr = data.get("throttling", {})
    _known(thr, {"allowed"}, "throttling")
    out = data.get("outliers", {})
    _known(out, {"fail", "k", "min_rel_gap"}, "outliers")
    gpn = head.get("gpus_per_node")
    if gpn is not None and (isinstance(gpn, bool) or not isinstance(gpn, int) or gpn < 1):
        raise UsageError(f"spec: spec.gpus_per_node must be a positive integer, got {gpn!r}")
    for t, key in ((thr, "allowed"), (out, "fail")):
        if key in t and not isinstance(t[key], bool):
            raise UsageError(f"spec: {key} must be true or false, got {t[key]!r}")
    return Spec(name=str(head.get("name", "unnamed spec")), workloads=wls,
                max_gpu_w=_num(power, "max_gpu_w", "power"), max_node_w=_num(power, "max_node_w", "power"),
                gpus_per_node=gpn, allow_throttling=thr.get("allowed", False),
                outliers_fail=out.get("fail", True), k=_num(out, "k", "outliers") or K_MAD,
                min_rel_gap=_num(out, "min_rel_gap", "outliers") or MIN_REL_GAP,
                miners=parse_rules(data.get("miners", {})))


def load_spec(path: str | Path) -> Spec:
    """Read and validate a TOML spec file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"spec: cannot read {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"spec: {path} is not valid TOML: {e}") from None
    return parse_spec(data)
