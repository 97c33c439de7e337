"""``--climate`` and ``--cooling`` for ``size``, ``plan`` and ``report``.

``size`` and ``report`` take one of each. ``plan`` takes either one for every allocation or one per
allocation, ``--climate NAME=SITE|FILE`` (the allocation's name in the plan), repeated; a bare value sets
every allocation that has none of its own. Without ``--cooling`` the air-side economiser is assumed.
"""

from __future__ import annotations

from typing import Any

from bench.errors import UsageError
from bench.sizing.climate.cooling import KINDS, Cooling, cooling
from bench.sizing.climate.sites import load_climate, site_names
from bench.sizing.climate.year import ClimateYear

DEFAULT_COOLING = "air"


def add_options(p: Any, per_allocation: bool = False) -> None:
    """Add ``--climate`` and ``--cooling`` to a subcommand's parser."""
    sites = ", ".join(site_names())
    if per_allocation:
        p.add_argument("--climate", action="append", default=[], metavar="[ALLOCATION=]SITE|FILE",
                       help=f"add annual figures for a site's climate: a shipped site ({sites}) or an .epw/.csv "
                            "year, for every allocation or, as NAME=..., for one (repeat)")
        p.add_argument("--cooling", action="append", default=[], metavar="[ALLOCATION=]KIND",
                       help=f"cooling model: {', '.join(KINDS)} (default: {DEFAULT_COOLING}), for every "
                            "allocation or, as NAME=KIND, for one (repeat)")
    else:
        p.add_argument("--climate", metavar="SITE|FILE",
                       help=f"add annual figures for a site's climate: a shipped site ({sites}) or an .epw/.csv "
                            "hourly year")
        p.add_argument("--cooling", metavar="KIND",
                       help=f"cooling model with --climate: {', '.join(KINDS)} (default: {DEFAULT_COOLING})")


def climate_and_cooling(climate: str | None, kind: str | None) -> tuple[ClimateYear, Cooling] | None:
    """One climate and cooling model (``size``, ``report``); None without ``--climate``."""
    if not climate:
        if kind:
            raise UsageError("--cooling needs --climate (which site's air does it cool with?)")
        return None
    return load_climate(climate), cooling(kind or DEFAULT_COOLING)


def _split(values: list[str], names: list[str], option: str) -> tuple[str | None, dict[str, str]]:
    every: str | None = None
    each: dict[str, str] = {}
    for v in values:
        name, sep, value = v.rpartition("=")
        if not sep:
            if every is not None:
                raise UsageError(f"{option} {v!r}: given twice for every allocation (use NAME=... for one)")
            every = v
            continue
        if name not in names:
            raise UsageError(f"{option} {v!r}: the plan has no allocation {name!r} (it has: {', '.join(names)})")
        each[name] = value
    return every, each


def per_allocation(climates: list[str], kinds: list[str], names: list[str]) -> dict[str, tuple[ClimateYear, Cooling]]:
    """Each allocation's climate and cooling; allocations without a climate are left out."""
    if not climates:
        if kinds:
            raise UsageError("--cooling needs --climate (which site's air does it cool with?)")
        return {}
    every, each = _split(climates, names, "--climate")
    every_kind, each_kind = _split(kinds, names, "--cooling")
    out = {}
    for name in names:
        spec = each.get(name, every)
        if spec is None:
            continue
        out[name] = (load_climate(spec), cooling(each_kind.get(name, every_kind) or DEFAULT_COOLING))
    return out
