"""Datasheet hardware figures shipped with the package (``bench/data/hardware.csv``)."""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

_CSV = Path(__file__).parent / "data" / "hardware.csv"


@lru_cache(maxsize=1)
def rows() -> list[dict[str, str]]:
    """Every row of the shipped hardware table."""
    with _CSV.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def gpu_row(name: str) -> dict[str, str] | None:
    """The datasheet row for a GPU name as NVML reports it (family token, PCIe vs SXM), or None."""
    tokens = set(re.findall(r"[a-z0-9]+", name.lower()))
    pcie = "pcie" in tokens
    best = None
    for row in rows():
        if row.get("kind") != "gpu":
            continue
        model = row["model"].lower()
        family = [t for t in re.findall(r"[a-z0-9]+", model) if re.fullmatch(r"[a-z]+\d+[a-z]*|\d{4}", t)]
        if family and family[0] in tokens:
            if ("pcie" in model) == pcie:
                return row
            best = best or row
    return best


def gpu_tdp_w(name: str) -> float | None:
    """Board power limit (W) of a GPU by name, or None when unknown."""
    row = gpu_row(name)
    try:
        return float(row["tdp_w"]) if row else None
    except (KeyError, ValueError):
        return None
