"""DECLARED derating curves (``bench/data/derating/declared.toml``): published knees and shutdowns.

Kept apart from fitted curves, as declared machines are from measured ones: a declared curve is a step
(a factor of the flat figure above each declared temperature, zero above the shutdown temperature), with the
public source named and anything standing in for an unpublished figure said.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib import resources

from bench.record.derating import DeclaredStep, Derating

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FILE = ("data", "derating", "declared.toml")


@lru_cache(maxsize=1)
def catalog() -> tuple[tuple[tuple[str, ...], Derating], ...]:
    """``(models, curve)`` for every declared curve shipped."""
    data = tomllib.loads(resources.files("bench").joinpath(*FILE).read_text("utf-8"))
    out = []
    for c in data["curve"]:
        record = Derating(
            source="declared", workload="*", unit="*", system=c["name"], channel="ambient/inlet air",
            method="declared step: a factor of the flat figure above each temperature, zero above the shutdown",
            reference=c["reference"],
            throughput_steps=[DeclaredStep(**s) for s in c["throughput_steps"]],
            power_steps=[DeclaredStep(**s) for s in c["power_steps"]],
            knee_c=c["knee_c"], shutdown_c=c.get("shutdown_c"), notes=list(c.get("notes", [])),
        )
        out.append((tuple(m.lower() for m in c["models"]), record))
    return tuple(out)


def declared_for(system: str) -> Derating | None:
    """The declared curve of a machine by its name (``Bitmain Antminer S21 XP``), None when none is shipped."""
    key = system.strip().lower()
    return next((record for models, record in catalog() if key in models), None)
