"""``--climate`` and ``--cooling`` for ``size``, ``plan`` and ``report``.

``size`` and ``report`` take one of each. ``plan`` takes either one for every allocation or one per
allocation, ``--climate NAME=SITE|FILE`` (the allocation's name in the plan), repeated; a bare value sets
every allocation that has none of its own. A plan may name each use's climate and cooling itself (``climate``
and ``cooling`` in a use, else in its allocation: :mod:`bench.sizing.plan`); the command line overrides them.
Without a cooling model anywhere the air-side economiser is assumed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.sizing.climate.cooling import KINDS, Cooling, cooling
from bench.sizing.climate.sites import load_climate, site_names
from bench.sizing.climate.year import ClimateYear
from bench.sizing.plan import Plan

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


def check_plan(plan: Plan) -> None:
    """Every ``climate`` in the plan a shipped site (a file was found when it was read) and every ``cooling`` a
    model sitebench has.

    Raises:
        UsageError: one line naming the plan file and the key at fault.
    """
    for i, a in enumerate(plan.allocations):
        tables = [(f"allocation[{i}]", a.climate, a.cooling)]
        tables += [(f"allocation[{i}].use[{j}]", u.climate, u.cooling) for j, u in enumerate(a.uses)]
        for where, climate, kind in tables:
            if climate is not None and Path(climate).suffix.lower() not in (".epw", ".csv") \
                    and climate.strip().lower().replace(" ", "-").replace("_", "-") not in site_names():
                raise UsageError(f"{plan.path}: {where}.climate: no such site {climate!r} (shipped: "
                                 f"{', '.join(site_names())}; or an .epw or .csv file)")
            if kind is not None and kind.strip().lower() not in KINDS:
                raise UsageError(f"{plan.path}: {where}.cooling: {kind!r}: expected one of {', '.join(KINDS)}")


def per_use(climates: list[str], kinds: list[str], plan: Plan) -> list[tuple[ClimateYear, Cooling] | None]:
    """Each use's climate and cooling, one per use of the plan in order (None: no climate, flat figures only).

    The climate is the first given of: ``--climate NAME=...`` for its allocation, a bare ``--climate``, the
    use's ``climate``, its allocation's; the cooling model likewise (default: air). Each climate is read once.
    """
    check_plan(plan)
    names = [a.name for a in plan.allocations]
    in_plan = any(a.climate is not None or any(u.climate is not None for u in a.uses) for a in plan.allocations)
    if kinds and not climates and not in_plan:
        raise UsageError("--cooling needs --climate (which site's air does it cool with?)")
    every, each = _split(climates, names, "--climate")
    every_kind, each_kind = _split(kinds, names, "--cooling")
    loaded: dict[str, ClimateYear] = {}
    out: list[tuple[ClimateYear, Cooling] | None] = []
    for a in plan.allocations:
        for u in a.uses:
            spec = each.get(a.name) or every or u.climate or a.climate
            kind = each_kind.get(a.name) or every_kind or u.cooling or a.cooling or DEFAULT_COOLING
            if spec is None:
                out.append(None)
                continue
            if spec not in loaded:
                loaded[spec] = load_climate(spec)
            out.append((loaded[spec], cooling(kind)))
    return out
