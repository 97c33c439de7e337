"""The operating envelope: one machine's runs at several settings, its Pareto frontier, and the setting
that buys the most for the MW.

**Envelope.** The runs of one document that differ only in their setting (:class:`bench.record.Setting`):
the same hardware (a miner's make and model, else the system name sizing gives it), workload, unit, kind
of device, parameters (those that name the setting itself left out), knob kind and source (measured or
declared). Runs without a setting belong to no envelope and are sized exactly as before. A file of
miners is averaged per model *and* operating point (:mod:`bench.sizing.miners`), so each point of a
sweep over several miners is one average miner.

**Points.** Each point is sized by :func:`bench.sizing.model.size`, the one formula every command uses:
power per machine ``P`` (``P_lo``..``P_hi``), throughput per machine ``T`` (``T_lo``..``T_hi``,
:func:`bench.sizing.model.throughput_bounds`) and machine efficiency ``T / P``
(``T_lo / P_hi``..``T_hi / P_lo``).

**Frontier.** A point is on the Pareto frontier when no other point of its envelope draws no more power
and does no less work, one of the two strictly (lower power and higher throughput are better), on the
central figures.

**Choice** (:func:`choose`) for an allocation of MW at a PUE:

- by throughput (the default): the point whose sized throughput, ``machines x T`` with the machines
  capped at ``max_machines`` (:func:`bench.sizing.model.capped`), is highest; a tie goes to fewer machines.
  Without a cap this is the point with the most throughput per MW.
- by cost (``machine_cost`` and ``energy_price`` both given): the point with the lowest cost per unit of
  throughput::

      cost per year = machines x machine_cost / years                                  (amortised machines)
                    + machines x P x PUE x 8760 h x availability / 1e6 x energy_price  (facility MWh x price)
      cost per unit = cost per year / (throughput x availability x seconds per year)

  Straight-line amortisation over ``years``, no interest, residual value, maintenance or cooling plant;
  the energy is the facility's (x PUE). Low: ``P_lo`` and ``T_hi``; high: ``P_hi`` and ``T_lo``.

**Gain over stock.** The chosen point's throughput and machines over the stock point's (the point whose
setting is marked ``stock``) for the same allocation and cap: ``ratio = chosen / stock``, ``low =
chosen_low / stock_high``, ``high = chosen_high / stock_low``: worst-case intervals, as every sizing bound.
Both fill the same MW, so the throughput ratio is the ratio of throughput per MW.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bench.errors import UsageError
from bench.record import Document, Run, Setting
from bench.sizing.model import Allocation, Sized, Skipped, capped, size, throughput_bounds
from bench.sizing.sources import Candidate, candidates

#: Default amortisation period of a machine, in years (straight line): a planning default, not advice.
DEFAULT_YEARS = 4.0
HOURS_PER_YEAR = 8760.0
SECONDS_PER_YEAR = HOURS_PER_YEAR * 3600
#: Parameters that name the setting itself: left out when telling envelopes apart.
SETTING_PARAMS = frozenset({"power_limit", "power_limit_w", "power_target", "power_target_w", "sm_clocks",
                            "locked_clocks", "clocks_mhz", "mode", "setting", "knob", "package_limit_w"})


def setting_label(s: Setting) -> str:
    """``"1905 W"``, ``"1410 MHz"``, ``"low-power"``: the value asked for, in its unit."""
    if isinstance(s.requested, str):
        return s.requested
    return f"{s.requested:g} {s.unit}"


def _params_key(run: Run) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in run.params.items()
                        if k not in SETTING_PARAMS and not k.startswith(("knob", "power_"))))


def hardware_name(c: Candidate) -> str:
    """The hardware a point measured: a miner's make and model (its averaged name counts miners), else sizing's name."""
    hw = c.run.hardware
    if hw is not None and hw.kind == "asic":
        return " ".join(x for x in (hw.make, hw.model) if x) or c.system
    return c.system


def envelope_key(c: Candidate) -> tuple[Any, ...] | None:
    """What a run's envelope is told apart by; None for a run without a setting (no envelope)."""
    run, s = c.run, c.run.setting
    if s is None:
        return None
    device = run.hardware.kind if run.hardware is not None else run.device
    return (c.file, hardware_name(c), run.workload, run.unit, device, _params_key(run), s.knob, s.unit, c.declared)


@dataclass(frozen=True)
class Point:
    """One operating point sized for the envelope's allocation, with its per-machine figures and bounds."""

    candidate: Candidate
    setting: Setting
    sized: Sized
    throughput_low: float
    throughput_high: float
    on_frontier: bool = False

    @property
    def label(self) -> str:
        """The setting as asked for (``"1905 W"``), ``" (stock)"`` after the stock point's."""
        return setting_label(self.setting) + (" (stock)" if self.setting.stock else "")

    @property
    def power_w(self) -> float:
        """Power per machine (with any node overhead), W."""
        return self.sized.power_w_per_machine

    @property
    def throughput(self) -> float:
        """Throughput per machine, units/s."""
        return self.sized.throughput_per_machine

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object: the setting, the per-machine figures with their bounds, frontier flag.

        Keys name what they are per, as ``size --json`` names them (``throughput`` there is the allocation's):
        ``power_w_per_machine``, ``throughput_per_machine``, ``machine_efficiency``, each with ``_low``/``_high``.
        """
        s = self.sized
        return {"file": s.file, "run": s.run, "setting": self.setting.to_json(), "label": self.label,
                "power_w_per_machine": s.power_w_per_machine, "power_w_per_machine_low": s.power_w_per_machine_low,
                "power_w_per_machine_high": s.power_w_per_machine_high,
                "throughput_per_machine": s.throughput_per_machine,
                "throughput_per_machine_low": self.throughput_low, "throughput_per_machine_high": self.throughput_high,
                "machine_efficiency": s.machine_efficiency, "machine_efficiency_low": s.machine_efficiency_low,
                "machine_efficiency_high": s.machine_efficiency_high, "on_frontier": self.on_frontier}


@dataclass(frozen=True)
class Envelope:
    """One machine's operating points for one workload and knob, sized for ``alloc``, lowest power first."""

    file: str
    system: str
    workload: str
    unit: str
    knob: str
    declared: bool
    alloc: Allocation
    node_overhead_w: float | None
    points: tuple[Point, ...]
    skipped: tuple[tuple[Setting, Skipped], ...] = ()

    @property
    def frontier(self) -> list[Point]:
        """The points on the Pareto frontier, lowest power first."""
        return [p for p in self.points if p.on_frontier]

    @property
    def stock(self) -> Point | None:
        """The point whose setting is the device's own default (the first, if measured more than once)."""
        return next((p for p in self.points if p.setting.stock), None)

    @property
    def title(self) -> str:
        """``Bitmain Antminer S19j Pro, sha256d, miner.power_target``."""
        return f"{self.system}, {self.workload}, {self.knob}"

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object: what the envelope is, its points and which are on the frontier."""
        return {"file": self.file, "system": self.system, "workload": self.workload, "unit": self.unit,
                "knob": self.knob, "source": "declared" if self.declared else "measured",
                "points": [p.to_dict() for p in self.points],
                "frontier": [p.sized.run for p in self.frontier],
                "not_sized": [{"run": k.run, "setting": setting_label(s), "reason": k.reason} for s, k in self.skipped]}


def mark_frontier(points: list[Point]) -> list[Point]:
    """``points`` sorted by power (then throughput, highest first), each flagged on or off the Pareto frontier."""
    ordered = sorted(points, key=lambda p: (p.power_w, -p.throughput))
    out: list[Point] = []
    best, best_power = -math.inf, math.nan
    for p in ordered:
        on = p.throughput > best or (p.throughput == best and p.power_w == best_power)
        if p.throughput > best:
            best, best_power = p.throughput, p.power_w
        out.append(Point(p.candidate, p.setting, p.sized, p.throughput_low, p.throughput_high, on))
    return out


def _point(c: Candidate, alloc: Allocation, node_overhead_w: float | None) -> Point | Skipped:
    s = size(c, alloc, node_overhead_w)
    if not isinstance(s, Sized):
        return s
    t_lo, _, t_hi = throughput_bounds(c.run)
    assert c.run.setting is not None
    return Point(c, c.run.setting, s, t_lo, t_hi)


def from_candidates(found: list[Candidate], alloc: Allocation, node_overhead_w: float | None = None) -> list[Envelope]:
    """The envelopes among ``found`` (candidates of one or more documents), in the order their first point comes."""
    groups: dict[tuple[Any, ...], list[Candidate]] = {}
    for c in found:
        key = envelope_key(c)
        if key is not None:
            groups.setdefault(key, []).append(c)
    out = []
    for members in groups.values():
        points: list[Point] = []
        skipped: list[tuple[Setting, Skipped]] = []
        for c in members:
            p = _point(c, alloc, node_overhead_w)
            if isinstance(p, Point):
                points.append(p)
            else:
                assert c.run.setting is not None
                skipped.append((c.run.setting, p))
        first = members[0]
        out.append(Envelope(first.file, hardware_name(first), first.run.workload, first.run.unit,
                            first.run.setting.knob if first.run.setting else "?", first.declared, alloc,
                            node_overhead_w, tuple(mark_frontier(points)), tuple(skipped)))
    return out


def envelopes(doc: Document, file: str, alloc: Allocation | None = None,
              node_overhead_w: float | None = None) -> list[Envelope]:
    """The operating envelopes of one document (empty when no run carries a setting), sized for ``alloc``
    (default 1 MW at PUE 1: the per-machine figures do not depend on it)."""
    return from_candidates(candidates(doc, file), alloc or Allocation(1.0), node_overhead_w)


def in_envelope(c: Candidate) -> bool:
    """Whether a candidate is a point of an envelope (it carries a setting) rather than sized on its own."""
    return envelope_key(c) is not None


# --- the choice ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Costs:
    """What the choice by cost rests on: machine cost (currency per machine), energy price (per MWh), years."""

    machine_cost: float
    energy_price: float
    years: float = DEFAULT_YEARS
    availability: float = 1.0

    def __post_init__(self) -> None:
        for name, v in (("--machine-cost", self.machine_cost), ("--energy-price", self.energy_price)):
            if isinstance(v, bool) or not (0 <= v < math.inf):
                raise UsageError(f"{name} {v}: must be a number >= 0")
        if isinstance(self.years, bool) or not (0 < self.years <= 100):
            raise UsageError(f"--years {self.years}: must be a number of years in (0, 100]")
        if not (0 < self.availability <= 1):
            raise UsageError(f"availability {self.availability}: must be in (0, 1]")

    def per_machine_year(self, power_w: float, pue: float) -> float:
        """Amortised machine cost plus the facility energy of one machine drawing ``power_w``, per year."""
        energy_mwh = power_w * pue * HOURS_PER_YEAR * self.availability / 1e6
        return self.machine_cost / self.years + energy_mwh * self.energy_price

    def per_unit(self, power_w: float, throughput: float, pue: float) -> float:
        """Cost per unit of work: a year's cost of one machine over the units it does in that year."""
        done = throughput * self.availability * SECONDS_PER_YEAR
        return self.per_machine_year(power_w, pue) / done if done > 0 else math.inf


@dataclass(frozen=True)
class Cost:
    """Cost per unit of work (currency per unit) with bounds, and per year for the whole allocation."""

    per_unit: float
    per_unit_low: float
    per_unit_high: float
    per_year: float


@dataclass(frozen=True)
class Ratio:
    """A ratio chosen / stock with its worst-case bounds."""

    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        """``{"value", "low", "high"}``."""
        return {"value": self.value, "low": self.low, "high": self.high}


def _ratio(a: float, a_lo: float, a_hi: float, b: float, b_lo: float, b_hi: float) -> Ratio | None:
    if b <= 0 or b_lo <= 0 or b_hi <= 0:
        return None
    return Ratio(a / b, a_lo / b_hi, a_hi / b_lo)


@dataclass(frozen=True)
class Choice:
    """The point chosen for an allocation, its sizing (capped), and what it gains over stock."""

    envelope: Envelope
    point: Point
    sized: Sized
    by: str
    max_machines: int | None
    cost: Cost | None = None
    stock: Point | None = None
    stock_sized: Sized | None = None
    stock_cost: Cost | None = None
    throughput_gain: Ratio | None = None
    machines_ratio: Ratio | None = None
    options: list[tuple[Point, Sized, Cost | None]] = field(default_factory=list)

    @property
    def capped(self) -> bool:
        """Whether the machine cap binds on any point (and so may have decided the choice)."""
        return self.max_machines is not None and any(s.machines >= self.max_machines for _, s, _ in self.options)

    def gain_text(self) -> str:
        """``"at 1905 W: +16% throughput per MW (-5%..+42%), 1.50x the machines (1.36x..1.65x)"``, or why not."""
        at = f"at {self.point.label}"
        if self.stock is None or self.throughput_gain is None or self.machines_ratio is None:
            return f"{at}: no stock point in this envelope to compare with"
        if self.point is self.stock:
            why = "the most throughput" if self.by == "throughput" else "the lowest cost per unit"
            return f"{at}: stock is the best choice ({why}" + (
                f" with at most {self.max_machines:,} machines)" if self.capped else ")")
        g, m = self.throughput_gain, self.machines_ratio
        per = f"throughput from at most {self.max_machines:,} machines" if self.capped else "throughput per MW"
        text = (f"{at}: {_pct(g.value)} {per} ({_pct(g.low)}..{_pct(g.high)}), "
                f"{m.value:.2f}x the machines ({m.low:.2f}x..{m.high:.2f}x)")
        if self.cost is not None and self.stock_cost is not None and self.stock_cost.per_unit > 0:
            text += f", {_pct(self.cost.per_unit / self.stock_cost.per_unit)} cost per unit"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object: the chosen point and setting, how it was chosen, its gain over stock."""
        return {"file": self.sized.file, "run": self.sized.run, "setting": self.point.setting.to_json(),
                "label": self.point.label, "by": self.by, "max_machines": self.max_machines,
                "sizing": self.sized.to_dict(),
                "cost": None if self.cost is None else asdict(self.cost),
                "stock_run": None if self.stock is None else self.stock.sized.run,
                "stock_sizing": None if self.stock_sized is None else self.stock_sized.to_dict(),
                "throughput_gain": None if self.throughput_gain is None else self.throughput_gain.to_dict(),
                "machines_ratio": None if self.machines_ratio is None else self.machines_ratio.to_dict(),
                "gain": self.gain_text()}


def _pct(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.0f}%"


def _cost(p: Point, s: Sized, pue: float, costs: Costs) -> Cost:
    return Cost(per_unit=costs.per_unit(s.power_w_per_machine, s.throughput_per_machine, pue),
                per_unit_low=costs.per_unit(s.power_w_per_machine_low, p.throughput_high, pue),
                per_unit_high=costs.per_unit(s.power_w_per_machine_high, p.throughput_low, pue),
                per_year=s.machines * costs.per_machine_year(s.power_w_per_machine, pue))


def check_choice(max_machines: int | None, machine_cost: float | None, energy_price: float | None) -> None:
    """Raise UsageError on a cap below 1 or one of --machine-cost and --energy-price without the other."""
    if max_machines is not None and (isinstance(max_machines, bool) or max_machines < 1):
        raise UsageError(f"--max-machines {max_machines}: must be a whole number of machines >= 1")
    if (machine_cost is None) != (energy_price is None):
        raise UsageError("--machine-cost and --energy-price go together: the choice by cost per unit needs both")


def choose(envelope: Envelope, mw: float, pue: float = 1.0, max_machines: int | None = None,
           machine_cost: float | None = None, energy_price: float | None = None, years: float = DEFAULT_YEARS,
           availability: float = 1.0) -> Choice:
    """The point of ``envelope`` that buys the most for ``mw`` facility MW at ``pue``.

    Without costs: the highest sized throughput (machines x T, machines at most ``max_machines``).
    With ``machine_cost`` (per machine) and ``energy_price`` (per MWh): the lowest cost per unit of
    throughput, ``(machines x machine_cost / years + facility MWh per year x energy_price) / throughput``
    (see the module's docstring). The gain over stock compares the same allocation and cap.

    Raises:
        UsageError: no point could be sized, a cap below 1, or only one of the two costs.
    """
    check_choice(max_machines, machine_cost, energy_price)
    if not envelope.points:
        raise UsageError(f"{envelope.file}: {envelope.title}: no point of the envelope can be sized")
    alloc = Allocation(mw, pue)
    costs = None if machine_cost is None or energy_price is None else Costs(machine_cost, energy_price, years,
                                                                              availability)
    options: list[tuple[Point, Sized, Cost | None]] = []
    for p in envelope.points:
        s = size(p.candidate, alloc, envelope.node_overhead_w)
        assert isinstance(s, Sized)  # it was sized for the envelope; only the MW changed
        s = capped(s, max_machines)
        options.append((p, s, None if costs is None else _cost(p, s, pue, costs)))
    if costs is None:
        best = max(options, key=lambda o: (o[1].throughput, -o[1].machines, -o[0].power_w))
    else:
        best = min(options, key=lambda o: (o[2].per_unit if o[2] else math.inf, -o[1].throughput))
    point, sized, cost = best
    stock = next((o for o in options if o[0].setting.stock), None)
    gain = machines = None
    if stock is not None:
        st = stock[1]
        gain = _ratio(sized.throughput, sized.throughput_low, sized.throughput_high,
                      st.throughput, st.throughput_low, st.throughput_high)
        machines = _ratio(sized.machines, sized.machines_low, sized.machines_high,
                          st.machines, st.machines_low, st.machines_high)
    return Choice(envelope, point, sized, "throughput" if costs is None else "cost", max_machines, cost,
                  stock[0] if stock else None, stock[1] if stock else None, stock[2] if stock else None,
                  gain, machines, options)


def cost_text(cost: float, unit: str, currency: str = "USD") -> str:
    """Cost per unit of work as people price it: per PH/s-day for hashing, per million tokens, else per million units."""
    if unit == "hash":
        return f"{cost * 1e15 * 86400:,.4g} {currency} per PH/s-day"
    return f"{cost * 1e6:,.4g} {currency} per million {'tokens' if unit == 'token' else unit}"


@dataclass(frozen=True)
class SweepSizing:
    """Every candidate sized (capped at ``max_machines``), those in no envelope, and each envelope's choice."""

    results: list[Sized | Skipped]
    plain: list[Sized | Skipped]
    envelopes: list[Envelope]
    choices: list[Choice | None]


def size_all(found: list[Candidate], alloc: Allocation, node_overhead_w: float | None = None,
             max_machines: int | None = None, machine_cost: float | None = None, energy_price: float | None = None,
             years: float = DEFAULT_YEARS) -> SweepSizing:
    """What ``size`` prints: each candidate through :func:`bench.sizing.model.size` (capped), the runs without a
    setting as they always were, and each envelope with its choice (None where no point could be sized).

    Raises:
        UsageError: a bad cap or only one of the two costs (:func:`check_choice`).
    """
    check_choice(max_machines, machine_cost, energy_price)
    results = [size(c, alloc, node_overhead_w) for c in found]
    results = [capped(r, max_machines) if isinstance(r, Sized) else r for r in results]
    envs = from_candidates(found, alloc, node_overhead_w)
    choices = [choose(e, alloc.mw, alloc.pue, max_machines, machine_cost, energy_price, years) if e.points else None
               for e in envs]
    plain = [r for r, c in zip(results, found) if not in_envelope(c)]
    return SweepSizing(results, plain, envs, choices)


def plotted(sweep: SweepSizing) -> list[Sized]:
    """What a sizing plot draws: each run without a setting, and each envelope's chosen point named by its setting."""
    chosen = [replace(c.sized, system=f"{c.sized.system} at {c.point.label}") for c in sweep.choices if c is not None]
    return [r for r in sweep.plain if isinstance(r, Sized)] + chosen
