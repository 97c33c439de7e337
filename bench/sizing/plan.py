"""Site plans (TOML): allocations of MW split between uses, each filled by one result file's hardware.

A plan::

    [plan]
    name = "..."
    pue = 1.1              # default for every allocation (>= 1)
    availability = 0.95    # default: fraction of the year the allocation runs, (0, 1]
    node_overhead_w = 500  # optional, per machine, components-only runs (else the sizing default)

    [prices]               # optional; each price optional (assumptions: the output calls them illustrative)
    currency = "USD"
    electricity_per_mwh = 60.0
    revenue_per_ph_day = 50.0            # per PH/s per day (hashing)
    revenue_per_million_tokens = 0.9     # tokens

    [[allocation]]
    name = "Sahiwal"
    mw = 667               # facility MW
    site_capacity_mw = 1320   # optional: the plant, and how loaded it runs now,
    site_load_factor = 0.15   # to warn when the allocation exceeds its spare capacity
    climate = "sahiwal"    # optional: the site's climate for annual figures (a shipped site, or an
                           # .epw/.csv year relative to the plan file), for every use without its own
    cooling = "air"        # optional: the cooling model with it (air, evaporative, dry-cooler)

    [[allocation.use]]
    name = "ASIC mining"
    share = 0.6            # of the allocation's MW; the shares may not sum above 1
    result = "../declared/bitmain-antminer-s21-pro.json"   # relative to the plan file
    workload = "sha256d"   # which run, when the file holds several usable runs
    model = "S19 Pro"      # which hardware, in a file of several (a miners file: one average miner per model)
    capex_per_machine = 4000   # optional: purchase price of one machine, in the plan's currency
    climate = "sahiwal"        # optional: this use's climate and cooling, over the allocation's
    cooling = "evaporative"

``plan --climate``/``--cooling`` override the plan's climates and cooling models (a bare value for every
use, ``NAME=...`` for one allocation's); without either, a use with a climate in the plan (its own, else its
allocation's) gets annual figures with its cooling model (default: air).

Per use: the sizing of :mod:`bench.sizing.model` for ``mw x share``; energy
per year = ``mw x share x availability x 8760`` MWh (the machines fill the
allocation); energy cost = energy x electricity price; revenue = throughput x
availability x a year at the price per unit (PH/s-day or million tokens),
with the throughput's low and high bounds. Revenue assumes all the work is
sold at the price (no demand limit). Capex = machines x capex per machine
(machines only: no buildings, power, cooling or networking); simple payback
in years = capex / (revenue - energy cost) per year, given where the use has
a capex, a revenue and an electricity price, and None ("never") when revenue
does not exceed the energy cost. None of it counts pool fees, maintenance,
staff, financing, taxes, depreciation or hardware price and difficulty changes.

A use whose result file holds a sweep (one operating envelope: runs that differ only in their
setting) is sized at the point :func:`bench.sizing.frontier.choose` picks for the use's MW: the most
throughput, at most ``--max-machines`` machines per use; by cost per unit of throughput when a
machine cost (``--machine-cost``, else the use's ``capex_per_machine``) and an energy price
(``--energy-price``, else ``electricity_per_mwh``) are both known. The use's ``choice`` says which
point and what it gains over stock. With a cap the energy is that of the machines bought.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.builtin import PREFIX, resolve
from bench.errors import UsageError
from bench.record import load
from bench.sizing.frontier import DEFAULT_YEARS, check_choice, envelope_key, from_candidates, in_envelope
from bench.sizing.frontier import choose as pick
from bench.sizing.model import Allocation, Sized, Skipped, capped, size, why_not
from bench.sizing.sources import Candidate, candidates

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HOURS_PER_YEAR = 8760.0
SECONDS_PER_YEAR = HOURS_PER_YEAR * 3600


@dataclass(frozen=True)
class Prices:
    """Optional prices; None where the plan gives none."""

    currency: str = "USD"
    electricity_per_mwh: float | None = None
    revenue_per_ph_day: float | None = None
    revenue_per_million_tokens: float | None = None


@dataclass(frozen=True)
class Use:
    """One use of an allocation: a share of its MW filled by one result file's hardware."""

    name: str
    share: float
    result: Path
    workload: str | None = None
    model: str | None = None
    capex_per_machine: float | None = None
    #: a shipped site's name or a climate file's path (resolved against the plan file), and a cooling model
    climate: str | None = None
    cooling: str | None = None


@dataclass(frozen=True)
class AllocationSpec:
    """One allocation of facility MW at one site."""

    name: str
    mw: float
    pue: float
    availability: float
    uses: tuple[Use, ...]
    site_capacity_mw: float | None = None
    site_load_factor: float | None = None
    #: the climate and cooling of every use that names none of its own
    climate: str | None = None
    cooling: str | None = None

    @property
    def spare_mw(self) -> float | None:
        """The site's capacity not in use now, when the plan says so."""
        if self.site_capacity_mw is None or self.site_load_factor is None:
            return None
        return self.site_capacity_mw * (1 - self.site_load_factor)


@dataclass(frozen=True)
class Plan:
    """A parsed site plan."""

    name: str
    path: Path
    allocations: tuple[AllocationSpec, ...]
    prices: Prices = field(default_factory=Prices)
    node_overhead_w: float | None = None


def _fail(path: Path, where: str, message: str) -> UsageError:
    return UsageError(f"{path}: {where}: {message}")


def _known(table: Any, keys: set[str], path: Path, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise _fail(path, where, "must be a table")
    unknown = sorted(set(table) - keys)
    if unknown:
        raise _fail(path, f"{where}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(keys))})")
    return table


def _number(table: dict[str, Any], key: str, path: Path, where: str, *, low: float, high: float = math.inf,
            low_open: bool = True, default: float | None = None) -> float | None:
    value = table.get(key, default)
    if value is None:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = f"{'>' if low_open else '>='} {low:g}" + (f" and <= {high:g}" if high < math.inf else "")
        raise _fail(path, f"{where}.{key}", f"must be a number {bound}, got {value!r}")
    return float(value)


def _text(table: dict[str, Any], key: str, path: Path, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"{where}.{key}", f"must be a non-empty string, got {value!r}")
    return value


def _climate(t: dict[str, Any], path: Path, where: str) -> tuple[str | None, str | None]:
    """``climate`` (an .epw/.csv file resolved against the plan's folder, else a site's name) and ``cooling``, as
    written; which sites and cooling models exist is checked with the plan by
    :func:`bench.sizing.climate.options.per_use`."""
    climate = _text(t, "climate", path, where) if "climate" in t else None
    if climate is not None and Path(climate).suffix.lower() in (".epw", ".csv"):
        found = path.parent / climate
        if not found.is_file():
            raise _fail(path, f"{where}.climate", f"no such file {found}")
        climate = str(found)
    return climate, _text(t, "cooling", path, where) if "cooling" in t else None


def _use(table: Any, path: Path, where: str) -> Use:
    t = _known(table, {"name", "share", "result", "workload", "model", "capex_per_machine", "climate", "cooling"},
               path, where)
    share = _number(t, "share", path, where, low=0.0, high=1.0)
    if share is None:
        raise _fail(path, f"{where}.share", "missing (a fraction of the allocation's MW)")

    named = _text(t, "result", path, where)
    result = resolve(named) if named.startswith(PREFIX) else path.parent / named
    if not result.is_file():
        raise _fail(path, f"{where}.result", f"no such file {result}")
    workload = _text(t, "workload", path, where) if "workload" in t else None
    model = _text(t, "model", path, where) if "model" in t else None
    capex = _number(t, "capex_per_machine", path, where, low=0.0, low_open=False)
    return Use(_text(t, "name", path, where, Path(result).stem), share, result, workload, model, capex,
               *_climate(t, path, where))


def _allocation(table: Any, path: Path, i: int, head: dict[str, Any]) -> AllocationSpec:
    where = f"allocation[{i}]"
    t = _known(table, {"name", "mw", "pue", "availability", "use", "site_capacity_mw", "site_load_factor",
                       "climate", "cooling"}, path, where)
    mw = _number(t, "mw", path, where, low=0.0)
    if mw is None:
        raise _fail(path, f"{where}.mw", "missing (facility MW of the allocation)")
    uses = t.get("use")
    if not isinstance(uses, list) or not uses:
        raise _fail(path, f"{where}.use", "needs at least one [[allocation.use]]")
    parsed = tuple(_use(u, path, f"{where}.use[{j}]") for j, u in enumerate(uses))
    total = sum(u.share for u in parsed)
    if total > 1 + 1e-9:
        raise _fail(path, where, f"uses allocate {total:.1%} of its MW, more than 100%")
    climate, cooling = _climate(t, path, where)
    return AllocationSpec(
        name=_text(t, "name", path, where, f"allocation {i + 1}"), mw=mw,
        pue=_number(t, "pue", path, where, low=1.0, low_open=False, default=head["pue"]) or 1.0,
        availability=_number(t, "availability", path, where, low=0.0, high=1.0,
                             default=head["availability"]) or 1.0,
        uses=parsed,
        site_capacity_mw=_number(t, "site_capacity_mw", path, where, low=0.0),
        site_load_factor=_number(t, "site_load_factor", path, where, low=0.0, high=1.0, low_open=False),
        climate=climate, cooling=cooling,
    )


def parse_plan(path: str | Path) -> Plan:
    """Read and check a plan file; any problem is one UsageError naming the file and key."""

    p = resolve(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{p}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{p}: not valid TOML ({exc})") from None
    _known(data, {"plan", "prices", "allocation"}, p, "<top>")
    plan = _known(data.get("plan", {}), {"name", "pue", "availability", "node_overhead_w"}, p, "plan")
    head = {"pue": _number(plan, "pue", p, "plan", low=1.0, low_open=False, default=1.0),
            "availability": _number(plan, "availability", p, "plan", low=0.0, high=1.0, default=1.0)}
    prices = _known(data.get("prices", {}), {"currency", "electricity_per_mwh", "revenue_per_ph_day",
                                              "revenue_per_million_tokens"}, p, "prices")
    allocs = data.get("allocation")
    if not isinstance(allocs, list) or not allocs:
        raise _fail(p, "allocation", "the plan needs at least one [[allocation]]")
    names = [a.get("name") for a in allocs if isinstance(a, dict)]
    for i, name in enumerate(names):
        if name is not None and name in names[:i]:
            raise _fail(p, f"allocation[{i}].name", f"duplicate name {name!r} (each allocation needs its own)")
    return Plan(
        name=_text(plan, "name", p, "plan", p.stem), path=p,
        allocations=tuple(_allocation(a, p, i, head) for i, a in enumerate(allocs)),
        prices=Prices(
            currency=_text(prices, "currency", p, "prices", "USD"),
            **{k: _number(prices, k, p, "prices", low=0.0, low_open=False)
               for k in ("electricity_per_mwh", "revenue_per_ph_day", "revenue_per_million_tokens")}),
        node_overhead_w=_number(plan, "node_overhead_w", p, "plan", low=0.0, low_open=False),
    )


@dataclass(frozen=True)
class UseResult:
    """One use sized, with its energy, energy cost and revenue per year (None without a price), its capex
    (None without a capex per machine) and simple payback in years (None without the prices it needs, or
    when revenue does not exceed the energy cost: :func:`payback_years`). ``choice``: for a sweep, the point
    chosen and its gain over stock (:meth:`bench.sizing.frontier.Choice.to_dict`)."""

    allocation: str
    use: str
    mw: float
    sized: Sized
    energy_mwh: float
    cost: float | None
    revenue: float | None
    revenue_low: float | None
    revenue_high: float | None
    capex_per_machine: float | None = None
    capex: float | None = None
    payback_years: float | None = None
    choice: dict[str, Any] | None = None


def payback_years(capex: float | None, revenue: float | None, cost: float | None) -> float | None:
    """Simple payback: ``capex / (revenue - cost)`` with both per year; None when any is missing or the
    revenue does not exceed the energy cost (the machines never pay for themselves)."""
    if capex is None or revenue is None or cost is None or revenue <= cost:
        return None
    return capex / (revenue - cost)


def choose(use: Use, alloc_name: str) -> Candidate:
    """The one usable run of the use's result file (filtered by ``workload`` when given); for a sweep, its
    first point (:func:`usable_runs` gives them all)."""
    return usable_runs(use, alloc_name)[0]


def usable_runs(use: Use, alloc_name: str) -> list[Candidate]:
    """The one usable run of the use's result file (filtered by ``workload`` and ``model`` when given), or the
    points of one operating envelope (a sweep: :mod:`bench.sizing.frontier`)."""
    doc = load(use.result)
    found = [c for c in candidates(doc, str(use.result)) if use.workload in (None, c.run.workload)
             and (use.model is None or use.model.lower() in c.system.lower())]
    usable = [c for c in found if why_not(c.run, c.declared) is None]
    where = f"allocation {alloc_name!r} use {use.name!r}"
    if not usable:
        reasons = "; ".join(f"run {c.index}: {why_not(c.run, c.declared)}" for c in found) or "no matching runs"
        raise UsageError(f"{use.result}: no usable runs for {where} ({reasons})")
    if len(usable) > 1 and len({envelope_key(c) for c in usable} - {None}) == 1 and all(map(in_envelope, usable)):
        return usable
    if len(usable) > 1:
        names = ", ".join(sorted({c.run.workload for c in usable}))
        if len({c.run.workload for c in usable}) == 1:  # one workload on several kinds of hardware
            names, key = "; ".join(sorted({c.system for c in usable})), "model"
        else:
            key = "workload"
        raise UsageError(f"{use.result}: {len(usable)} usable runs ({names}): set {key} = ... in {where}")
    return usable[:1]


@dataclass(frozen=True)
class ChoiceOptions:
    """How a use whose file holds a sweep picks its point (:func:`bench.sizing.frontier.choose`): a cap on
    machines, and a machine cost and energy price that, when both are known, choose by cost per unit.
    Unset, the machine cost is the use's ``capex_per_machine`` and the energy price the plan's
    ``electricity_per_mwh``."""

    max_machines: int | None = None
    machine_cost: float | None = None
    energy_price: float | None = None
    years: float = DEFAULT_YEARS


def _sized_use(found: list[Candidate], u: Use, a: AllocationSpec, mw: float, plan: Plan,
               opts: ChoiceOptions) -> tuple[Sized | Skipped, dict[str, Any] | None]:
    alloc = Allocation(mw, a.pue)
    if not in_envelope(found[0]):
        s = size(found[0], alloc, plan.node_overhead_w)
        return (capped(s, opts.max_machines) if isinstance(s, Sized) else s), None
    cost = opts.machine_cost if opts.machine_cost is not None else u.capex_per_machine
    price = opts.energy_price if opts.energy_price is not None else plan.prices.electricity_per_mwh
    if (opts.machine_cost is not None or opts.energy_price is not None) and (cost is None or price is None):
        raise UsageError(f"allocation {a.name!r} use {u.name!r}: --machine-cost and --energy-price go together "
                         "(the plan gives neither capex_per_machine nor electricity_per_mwh for the other)")
    if cost is None or price is None:
        cost = price = None
    (env,) = from_candidates(found, alloc, plan.node_overhead_w)
    if not env.points:
        return env.skipped[0][1], None
    c = pick(env, mw, a.pue, opts.max_machines, cost, price, opts.years, a.availability)
    return c.sized, c.to_dict()


def revenue_per_year(s: Sized, throughput: float, availability: float, prices: Prices) -> float | None:
    """Revenue per year of ``throughput`` units/s, None when the plan prices no such unit."""
    if s.unit == "hash" and prices.revenue_per_ph_day is not None:
        return throughput / 1e15 * prices.revenue_per_ph_day * 365 * availability
    if s.unit == "token" and prices.revenue_per_million_tokens is not None:
        return throughput * SECONDS_PER_YEAR * availability / 1e6 * prices.revenue_per_million_tokens
    return None


def evaluate(plan: Plan, opts: ChoiceOptions | None = None) -> list[UseResult]:
    """Every use of every allocation sized, with energy, energy cost and revenue per year, capex and payback;
    a use whose file holds a sweep at the point ``opts`` chooses (its ``choice`` says which and the gain)."""
    opts = opts or ChoiceOptions()
    check_choice(opts.max_machines, None, None)
    out = []
    for a in plan.allocations:
        for u in a.uses:
            mw = a.mw * u.share
            s, choice = _sized_use(usable_runs(u, a.name), u, a, mw, plan, opts)
            if not isinstance(s, Sized):
                raise UsageError(f"{u.result}: allocation {a.name!r} use {u.name!r}: {s.reason}")
            used_mw = min(mw, s.machines * s.power_w_per_machine * a.pue / 1e6) if opts.max_machines else mw
            energy = used_mw * a.availability * HOURS_PER_YEAR
            price = plan.prices.electricity_per_mwh
            cost = energy * price if price is not None else None
            revenue = revenue_per_year(s, s.throughput, a.availability, plan.prices)
            capex = s.machines * u.capex_per_machine if u.capex_per_machine is not None else None
            out.append(UseResult(
                a.name, u.name, mw, s, energy, cost, revenue,
                revenue_per_year(s, s.throughput_low, a.availability, plan.prices),
                revenue_per_year(s, s.throughput_high, a.availability, plan.prices),
                u.capex_per_machine, capex, payback_years(capex, revenue, cost), choice))
    return out


def warnings(plan: Plan) -> list[str]:
    """Allocations larger than their site's spare capacity."""
    out = []
    for a in plan.allocations:
        spare = a.spare_mw
        if spare is not None and a.mw > spare:
            out.append(f"allocation {a.name!r}: {a.mw:g} MW is more than the site's spare capacity "
                       f"({a.site_capacity_mw:g} MW x (1 - {a.site_load_factor:g}) = {spare:g} MW)")
    return out
