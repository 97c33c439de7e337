"""What one megawatt buys, from one run's measured throughput and power.

The end-of-run summary uses this; ``sitebench size`` builds on it with PUE,
node overhead and error bars.
"""

from __future__ import annotations

from typing import Any


def per_megawatt(run: dict[str, Any]) -> dict[str, Any] | None:
    """Machines per MW, throughput per MW and MW per unit/s for one run.

    Returns None when the run has no throughput or no power figure.
    """
    thr = run.get("throughput", {}).get("median")
    watts = run.get("power", {}).get("avg_w")
    if not thr or not watts or watts <= 0:
        return None
    machines = 1e6 / watts
    return {
        "machines_per_mw": machines,
        "throughput_per_mw": thr * machines,
        "mw_per_unit_per_s": 1.0 / (thr * machines),
        "measured": bool(run["power"].get("measured")),
    }
