"""cgminer-family replies (stock Antminer bmminer/cgminer, Braiins OS, LuxOS, Avalon) -> :class:`Poll`.

Which fields each firmware fills (checked against the fields pyasic's backends read and
published replies): ``summary`` gives ``Elapsed``, the rates (``GHS 5s``, ``MHS av``...),
``Total MH`` (the cumulative counter), ``Difficulty Accepted``/``Rejected``/``Stale``,
``Accepted``/``Rejected``/``Stale`` share counts and ``Hardware Errors``. Per board:
stock Antminer and LuxOS ``stats`` (``chain_acnN`` chips, ``chain_hwN``, ``chain_rateN``,
``temp_pcbN``/``temp_chipN`` or ``tempN``/``temp2_N``, ``fanN``, ``total_rateideal`` with
``rate_unit``; four PCB sensors ``in-in-out-out`` give the board's intake and exhaust sides,
:func:`sides`); Braiins ``devs``/``devdetails`` (``Chips``)/``temps``/``fans`` and
``tunerstatus`` (``ApproximateMinerPowerConsumption``, per-chain tuner ``Status``); Avalon
``estats`` (``MM ID0``: a ``Key[value]`` string with ``WALLPOWER``, ``GHSmm``, ``Fan1``...).

Every figure is read through the bounded helpers of :mod:`bench.miners.protocol.parse`: a counter outside
its bounds refuses the poll (:func:`~bench.miners.protocol.parse.count`), telemetry out of range is left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bench.miners.protocol import catalog
from bench.miners.protocol.model import Board, Counter, Identity, Poll
from bench.miners.protocol.parse import (
    MAX_CHIPS,
    MAX_COUNT,
    MAX_DIFFICULTY,
    MAX_ELAPSED_S,
    MAX_FAN_RPM,
    MAX_HASHES,
    MAX_RATE_HS,
    PREFIX,
    TEMP_RANGE_C,
    BadReply,
    bounded,
    count,
    edge,
    first,
    integer,
    items,
    num,
    power,
    rates,
    text,
    unit_scale,
)

_AVALON_KV = re.compile(r"(\w+)\[([^\]]*)\]")
_RATE_KEY = re.compile(r"^([KMGTP]?)HS av$", re.IGNORECASE)


def records(reply: Mapping[str, Any] | None, key: str) -> list[dict[str, Any]]:
    """The list under ``key`` (``SUMMARY``, ``STATS``...) of a reply, dicts only."""
    items = reply.get(key) if reply else None
    return [r for r in items if isinstance(r, dict)] if isinstance(items, list) else []


def temperature(value: Any) -> float | None:
    """A temperature in degrees C, None outside :data:`~bench.miners.protocol.parse.TEMP_RANGE_C` (a fault code)."""
    return bounded(value, *TEMP_RANGE_C)


def _max_of(value: Any) -> float | None:
    """The largest non-zero reading in ``"40-41-55-55"`` (or a plain number)."""
    if type(value) is str and len(value) <= 64:  # the usual reply, without a call per reading: as below, faster
        low, high = TEMP_RANGE_C
        try:
            return max((v for v in map(float, value.split("-")) if v and low <= v <= high), default=None)
        except ValueError:
            pass  # a reading that is no plain number ("1,000"): each read as below
    values = [temperature(p) for p in value.split("-")[:64]] if isinstance(value, str) else [temperature(value)]
    found = [v for v in values if v]
    return max(found) if found else None


def sides(value: Any) -> tuple[float | None, float | None]:
    """A stock Antminer's four PCB sensors ``"in-in-out-out"`` as (intake side, exhaust side): the hotter of
    each pair, as air-cooled X19 and X21 boards order them; (None, None) for any other layout (two sensors,
    a hydro board's own order), which does not say which side is which."""
    parts = value.split("-") if isinstance(value, str) else []
    if len(parts) != 4:
        return None, None
    readings = [temperature(p) for p in parts]
    inlet = [v for v in readings[:2] if v]
    outlet = [v for v in readings[2:] if v]
    return (max(inlet) if inlet else None), (max(outlet) if outlet else None)


def chips(value: Any) -> int | None:
    """A board's chip count (None when not a number of chips)."""
    return integer(value, 0, MAX_CHIPS)


def fan(value: Any) -> int | None:
    """A fan's speed in rpm (None when not one)."""
    return integer(value, 0, MAX_FAN_RPM)


def elapsed_of(record: Mapping[str, Any], key: str = "Elapsed") -> float | None:
    """The mining process's uptime (s); refuses the poll when it is no uptime."""
    return count(record, key, MAX_ELAPSED_S)


def counter(summary: Mapping[str, Any], elapsed: float | None) -> Counter | None:
    """The cumulative hash counter: ``Total MH`` where reported, else the average rate x ``Elapsed``.

    ``Elapsed`` is reported in whole seconds and the average with two decimals in its own
    unit, so the product is uncertain by up to one second of hashing plus the rounding of
    the average times the elapsed time; that is its resolution.
    """
    total = count(summary, "Total MH", MAX_HASHES / 1e6)
    if total is not None:
        return Counter(total * 1e6, 1e6, "Total MH")
    for key in summary:
        match = _RATE_KEY.match(key)
        if match and elapsed is not None:
            scale = PREFIX[match.group(1).upper()]
            rate = count(summary, key, MAX_RATE_HS / scale)
            if rate is None:
                continue
            rate *= scale
            return Counter(rate * elapsed, rate * 1.0 + 0.005 * scale * elapsed, f"{key} x Elapsed")
    return None


def _stats_boards(stats: Mapping[str, Any], spec: catalog.ModelSpec | None) -> tuple[list[Board], list[int]]:
    scale = unit_scale(stats.get("rate_unit"))
    boards: list[Board] = []
    chains = sorted(int(k[9:]) for k in stats if k.startswith("chain_acn") and k[9:].isdigit() and len(k) < 14)
    for i in chains[:16]:
        rate = num(stats.get(f"chain_rate{i}"))
        inlet, outlet = sides(stats.get(f"temp_pcb{i}"))
        boards.append(Board(
            index=len(boards),
            chips=chips(stats[f"chain_acn{i}"]),
            chips_expected=spec.chips_per_board if spec else None,
            temp_board_c=_max_of(first(stats, f"temp_pcb{i}", f"temp{i}")),
            temp_chip_c=_max_of(first(stats, f"temp_chip{i}", f"temp2_{i}")),
            hashrate_hs=None if rate is None else bounded(rate * scale, 0, MAX_RATE_HS),
            hw_errors=integer(stats.get(f"chain_hw{i}")),
            temp_inlet_c=inlet, temp_outlet_c=outlet,
        ))
    fans = [fan(v) for k, v in stats.items() if k.startswith("fan") and k[3:].isdigit()]
    return boards, [f for f in fans if f][:16]


def _braiins_boards(replies: Mapping[str, Any], spec: catalog.ModelSpec | None) -> tuple[list[Board], list[int]]:
    found = {text(r, "ID"): chips(r.get("Chips")) for r in records(replies.get("devdetails"), "DEVDETAILS")}
    temps = {text(r, "ID"): r for r in records(replies.get("temps"), "TEMPS")}
    boards: list[Board] = []
    for dev in records(replies.get("devs"), "DEVS")[:16]:
        ident = text(dev, "ID")
        t = temps.get(ident, {})
        boards.append(Board(
            index=len(boards), chips=found.get(ident), chips_expected=spec.chips_per_board if spec else None,
            temp_board_c=temperature(t.get("Board")), temp_chip_c=temperature(t.get("Chip")),
            hashrate_hs=rates(dev).get("5s"), hw_errors=integer(dev.get("Hardware Errors")),
        ))
    fans = [fan(f.get("RPM")) for f in records(replies.get("fans"), "FANS")]
    return boards, [f for f in fans if f][:16]


def avalon_fields(estats: Mapping[str, Any] | None) -> dict[str, str]:
    """The ``Key[value]`` pairs of an Avalon ``MM ID0`` string (empty when absent)."""
    for stat in records(estats, "STATS"):
        for key, value in stat.items():
            if key.startswith("MM ID") and isinstance(value, str):
                return dict(_AVALON_KV.findall(value))
    return {}


def _avalon_boards(mm: Mapping[str, str]) -> list[Board]:
    """Per-board ``MTavg``/``MTmax``/``MGHS`` (GH/s) where the firmware lists them, else the unit's
    ``TAvg``/``TMax`` as one board; Avalon's API gives no chip count."""
    avg, top, ghs = ((mm.get(k) or mm.get(f) or "").split() for k, f in (("MTavg", "TAvg"), ("MTmax", "TMax"), ("MGHS", "")))

    def temp(values: list[str], i: int) -> float | None:
        return temperature(values[i]) if i < len(values) else None

    def rate(i: int) -> float | None:
        v = num(ghs[i]) if i < len(ghs) else None
        return None if v is None else bounded(v * 1e9, 0, MAX_RATE_HS)

    return [Board(index=i, temp_board_c=temp(avg, i), temp_chip_c=temp(top, i), hashrate_hs=rate(i))
            for i in range(min(max(len(avg), len(top), len(ghs)), 16))]


def _fit_boards(boards: list[Board], spec: catalog.ModelSpec | None) -> list[Board]:
    """Boards as the model has them: empty slots beyond its board count dropped, and boards the
    firmware did not list at all added with 0 chips (a board that vanished has lost its chips)."""
    if spec is None:
        return boards
    if len(boards) > spec.boards:
        boards = [replace(b, index=i) for i, b in enumerate(b for b in boards if b.chips)]
    if spec.chips_per_board is None:
        return boards
    return boards + [Board(index=i, chips=0, chips_expected=spec.chips_per_board)
                     for i in range(len(boards), spec.boards)]


def _braiins_state(tuner: Mapping[str, Any]) -> tuple[float | None, bool | None]:
    watts = power(tuner.get("ApproximateMinerPowerConsumption"), "ApproximateMinerPowerConsumption")
    chains = [c for c in items(tuner, "TunerChainStatus") if isinstance(c, dict)]
    stable = all(str(c.get("Status", "")).startswith("Stable") for c in chains) if chains else None
    return watts, stable


def share_difficulty(pools: list[dict[str, Any]]) -> float | None:
    """The difficulty of the shares being found now: the active pool's ``Last Share Difficulty`` (the only
    pool's, or the one value all pools agree on); None when not reported or ambiguous."""
    active = [p for p in pools if p.get("Stratum Active") is True] or pools
    found = {v for v in (bounded(p.get("Last Share Difficulty"), 0, MAX_DIFFICULTY) for p in active) if v}
    return found.pop() if len(found) == 1 else None


@edge(lambda identity, *_: identity.address)
def normalise(identity: Identity, replies: Mapping[str, Any], t: float, wall: float) -> Poll:
    """One :class:`Poll` from the replies of one poll (keys: the commands sent).

    Raises:
        BadReply: no ``summary`` record (the one reply every poll needs), a counter or power out of its bounds,
            or a reply of unexpected shape.
    """
    summaries = records(replies.get("summary"), "SUMMARY")
    if not summaries:
        raise BadReply(f"{identity.address}: summary reply without a SUMMARY record")
    s = summaries[0]
    spec = catalog.lookup(identity.model)
    elapsed = elapsed_of(s)
    stats = records(replies.get("stats"), "STATS")
    chain_stats = next((r for r in stats if "chain_acn1" in r or any(k.startswith("chain_acn") for k in r)), {})
    if identity.family == "braiins":
        boards, fans = _braiins_boards(replies, spec)
    else:
        boards, fans = _stats_boards(chain_stats, spec)
    watts = power_source = None
    stable: bool | None = None
    if identity.family == "braiins":
        tuner = (records(replies.get("tunerstatus"), "TUNERSTATUS") or [{}])[0]
        watts, stable = _braiins_state(tuner)
        power_source = "tunerstatus ApproximateMinerPowerConsumption" if watts is not None else None
    elif identity.family == "luxos":
        watts = power((records(replies.get("power"), "POWER") or [{}])[0].get("Watts"), "power Watts")
        power_source = "power Watts" if watts is not None else None
    elif identity.family == "avalon":
        mm = avalon_fields(replies.get("estats"))
        watts = power(mm.get("WALLPOWER"), "estats WALLPOWER")
        power_source = "estats WALLPOWER" if watts is not None else None
        fans = [f for f in (fan(v) for k, v in mm.items() if re.fullmatch(r"Fan\d+", k)) if f][:16]
        boards = _avalon_boards(mm)
    pools = records(replies.get("pools"), "POOLS")[:16]
    rate = rates(s)
    nominal = num(chain_stats.get("total_rateideal"))
    if nominal is not None and (nominal := bounded(nominal * unit_scale(chain_stats.get("rate_unit")), 0, MAX_RATE_HS)):
        rate["nominal"] = nominal
    hw = count(s, "Hardware Errors", MAX_COUNT)
    return Poll(
        t=t, wall=wall, identity=identity, elapsed_s=elapsed, counter=counter(s, elapsed), rates_hs=rate,
        accepted_difficulty=_total(s, pools, "Difficulty Accepted", MAX_DIFFICULTY),
        rejected_difficulty=_sum_opt(_total(s, pools, "Difficulty Rejected", MAX_DIFFICULTY),
                                     _total(s, pools, "Difficulty Stale", MAX_DIFFICULTY)),
        shares=_shares(s, pools), hw_errors=None if hw is None else round(hw),
        power_w=watts, power_source=power_source, fans_rpm=tuple(fans),
        boards=tuple(_fit_boards(boards, spec) if identity.family != "avalon" else boards), stable=stable,
        share_difficulty=share_difficulty(pools),
    )


def _total(summary: Mapping[str, Any], pools: list[dict[str, Any]], key: str, limit: float) -> float | None:
    """Counter ``key`` from the summary, else summed over the pools (None when nobody reports it).

    Raises:
        BadReply: a count out of its bounds (:func:`~bench.miners.protocol.parse.count`).
    """
    value = count(summary, key, limit)
    if value is not None:
        return value
    found = [v for v in (count(p, key, limit) for p in pools) if v is not None]
    return sum(found) if found else None


def _sum_opt(*values: float | None) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) if found else None


def _shares(summary: Mapping[str, Any], pools: list[dict[str, Any]]) -> int | None:
    counts = [_total(summary, pools, k, MAX_COUNT) for k in ("Accepted", "Rejected", "Stale")]
    total = _sum_opt(*counts)
    return None if total is None else int(total)
