"""Baseline directories: ``<root>/<machine-id>/baseline.json`` plus optional ``thresholds.json``.

``thresholds.json`` holds the regression thresholds in percent::

    {"default_pct": 10, "workloads": {"llm-serve": 25}}

A machine with no directory of its own falls back to ``<root>/default/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.store import safe_name

BASELINE = "baseline.json"
THRESHOLDS = "thresholds.json"
FALLBACK = "default"
DEFAULT_PCT = 5.0


@dataclass
class Thresholds:
    """Relative slowdowns (fractions) that count as a regression, overall and per workload."""

    default: float = DEFAULT_PCT / 100
    workloads: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``thresholds.json`` form (percent)."""
        return {"default_pct": self.default * 100,
                "workloads": {k: v * 100 for k, v in sorted(self.workloads.items())}}


def _pct(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1000:
        raise UsageError(f"{where}: expected a percentage between 0 and 1000, found {value!r}")
    return float(value) / 100


def load_thresholds(path: Path) -> Thresholds:
    """Thresholds from ``path``; defaults when the file does not exist.

    Raises:
        UsageError: when the file is unreadable or malformed (naming the JSON path).
    """
    if not path.exists():
        return Thresholds()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read thresholds ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("workloads", {}), dict):
        raise UsageError(f"{path}: $: expected {{\"default_pct\": N, \"workloads\": {{NAME: N}}}}")
    default = _pct(raw.get("default_pct", DEFAULT_PCT), f"{path}: $.default_pct")
    per = {str(k): _pct(v, f"{path}: $.workloads.{k}") for k, v in raw.get("workloads", {}).items()}
    return Thresholds(default, per)


def baseline_dir(root: Path, name: str) -> Path:
    """The directory of baseline ``name`` under ``root``."""

    if safe_name(name, "") != name:
        raise UsageError(f"--name {name!r}: use lower-case letters, digits, '.', '_' or '-'")
    return root / name


def resolve(root: Path, name: str) -> tuple[Path, bool]:
    """``(directory holding baseline.json, fell_back)``; falls back to ``root/default``.

    Raises:
        UsageError: when neither exists.
    """
    own = baseline_dir(root, name)
    if (own / BASELINE).is_file():
        return own, False
    fallback = root / FALLBACK
    if (fallback / BASELINE).is_file():
        return fallback, True
    raise UsageError(f"no baseline {own / BASELINE} and no {fallback / BASELINE}")
