"""Human units: TH/s, EH/s and J/TH for hashing; tok/s, M tok/s and J/token for inference."""

from __future__ import annotations

import math

_SI = [(1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")]
_SHORT = {"hash": "H", "token": "tok"}


def si(value: float | None, unit: str = "", digits: int = 3) -> str:
    """``1.5e12, "H/s"`` -> ``"1.50 TH/s"``; None -> ``"-"``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if value == 0:
        return f"0 {unit}".strip()
    scale, prefix = next(((s, p) for s, p in _SI if abs(value) >= s), _SI[-1])
    text = f"{value / scale:.{digits}g}"
    sep = " " if unit != "tok/s" or prefix else " "
    return f"{text}{sep}{prefix}{unit}".strip()


def rate(value: float | None, unit: str) -> str:
    """A throughput in units/s the way people read it: ``"1.2 TH/s"``, ``"350 tok/s"``."""
    short = _SHORT.get(unit, unit)
    return si(value, f"{short}/s")


def efficiency(per_joule: float | None, unit: str) -> str:
    """Hashing as J/TH (as miners quote it), tokens as J/token, others as unit/J."""
    if per_joule is None or per_joule <= 0:
        return "-"
    if unit == "hash":
        return f"{1e12 / per_joule:.4g} J/TH"
    if unit == "token":
        return f"{1 / per_joule:.4g} J/token"
    return si(per_joule, f"{unit}/J")


def watts(value: float | None) -> str:
    """``"312 W"``, ``"1.2 kW"``."""
    return si(value, "W")


def throughput_per_mw_unit(unit: str) -> tuple[float, str]:
    """The scale and label for 'MW per unit of throughput': EH/s for hashes, M tok/s for tokens."""
    if unit == "hash":
        return 1e18, "EH/s"
    if unit == "token":
        return 1e6, "M tok/s"
    return 1.0, f"{unit}/s"
