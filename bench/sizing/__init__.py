"""Sizing: from measured work per joule to machines, throughput and MW per unit of throughput.

- :func:`per_megawatt` — the quick end-of-run figure (IT power, no PUE, no
  overhead, no bounds), used by ``sitebench run`` / ``show`` and the report.
- :mod:`bench.sizing.power` — the power one machine draws, its scope class,
  node overhead and accuracy band.
- :mod:`bench.sizing.model` — ``sitebench size``: an allocation of MW sized
  with low and high bounds (the formula is in that module's docstring).
- :mod:`bench.sizing.plan` — ``sitebench plan``: TOML site plans.
- :mod:`bench.sizing.declare` — declared (not measured) result files.
"""

from __future__ import annotations

from typing import Any


def per_megawatt(run: dict[str, Any]) -> dict[str, Any] | None:
    """Machines per MW, throughput per MW and MW per unit/s for one run.

    Returns None when the run has no throughput, no power figure, or a power
    window the power layer refused for sizing (``valid_for_sizing: false``).
    """
    thr = run.get("throughput", {}).get("median")
    watts = run.get("power", {}).get("avg_w")
    if not thr or not watts or watts <= 0 or run.get("power", {}).get("valid_for_sizing") is False:
        return None
    machines = 1e6 / watts
    return {
        "machines_per_mw": machines,
        "throughput_per_mw": thr * machines,
        "mw_per_unit_per_s": 1.0 / (thr * machines),
        "measured": bool(run["power"].get("measured")),
    }
