"""cgminer-family replies (stock Antminer bmminer/cgminer, Braiins OS, LuxOS, Avalon) -> :class:`Poll`.

Which fields each firmware fills (checked against the fields pyasic's backends read and
published replies): ``summary`` gives ``Elapsed``, the rates (``GHS 5s``, ``MHS av``...),
``Total MH`` (the cumulative counter), ``Difficulty Accepted``/``Rejected``/``Stale``,
``Accepted``/``Rejected``/``Stale`` share counts and ``Hardware Errors``. Per board:
stock Antminer and LuxOS ``stats`` (``chain_acnN`` chips, ``chain_hwN``, ``chain_rateN``,
``temp_pcbN``/``temp_chipN`` or ``tempN``/``temp2_N``, ``fanN``, ``total_rateideal`` with
``rate_unit``); Braiins ``devs``/``devdetails`` (``Chips``)/``temps``/``fans`` and
``tunerstatus`` (``ApproximateMinerPowerConsumption``, per-chain tuner ``Status``); Avalon
``estats`` (``MM ID0``: a ``Key[value]`` string with ``WALLPOWER``, ``GHSmm``, ``Fan1``...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bench.miners.protocol import catalog
from bench.miners.protocol.model import Board, Counter, Identity, Poll
from bench.miners.protocol.parse import PREFIX, BadReply, first, integer, num, rates, unit_scale

_AVALON_KV = re.compile(r"(\w+)\[([^\]]*)\]")
_RATE_KEY = re.compile(r"^([KMGTP]?)HS av$", re.IGNORECASE)


def records(reply: Mapping[str, Any] | None, key: str) -> list[dict[str, Any]]:
    """The list under ``key`` (``SUMMARY``, ``STATS``...) of a reply, dicts only."""
    items = reply.get(key) if reply else None
    return [r for r in items if isinstance(r, dict)] if isinstance(items, list) else []


def _max_of(text: Any) -> float | None:
    """The largest non-zero reading in ``"40-41-55-55"`` (or a plain number)."""
    values = [num(p) for p in str(text).split("-")] if isinstance(text, str) else [num(text)]
    found = [v for v in values if v]
    return max(found) if found else None


def counter(summary: Mapping[str, Any], elapsed: float | None) -> Counter | None:
    """The cumulative hash counter: ``Total MH`` where reported, else the average rate x ``Elapsed``.

    ``Elapsed`` is reported in whole seconds and the average with two decimals in its own
    unit, so the product is uncertain by up to one second of hashing plus the rounding of
    the average times the elapsed time; that is its resolution.
    """
    total = num(summary.get("Total MH"))
    if total is not None:
        return Counter(total * 1e6, 1e6, "Total MH")
    for key, value in summary.items():
        match = _RATE_KEY.match(key)
        avg = num(value)
        if match and avg is not None and elapsed is not None:
            scale = PREFIX[match.group(1).upper()]
            rate = avg * scale
            return Counter(rate * elapsed, rate * 1.0 + 0.005 * scale * elapsed, f"{key} x Elapsed")
    return None


def _stats_boards(stats: Mapping[str, Any], spec: catalog.ModelSpec | None) -> tuple[list[Board], list[int]]:
    scale = unit_scale(stats.get("rate_unit"))
    boards: list[Board] = []
    chains = sorted(int(k[9:]) for k in stats if k.startswith("chain_acn") and k[9:].isdigit())
    for i in chains:
        rate = num(stats.get(f"chain_rate{i}"))
        boards.append(Board(
            index=len(boards),
            chips=integer(stats[f"chain_acn{i}"]),
            chips_expected=spec.chips_per_board if spec else None,
            temp_board_c=_max_of(first(stats, f"temp_pcb{i}", f"temp{i}")),
            temp_chip_c=_max_of(first(stats, f"temp_chip{i}", f"temp2_{i}")),
            hashrate_hs=None if rate is None else rate * scale,
            hw_errors=integer(stats.get(f"chain_hw{i}")),
        ))
    fans = [integer(v) for k, v in stats.items() if k.startswith("fan") and k[3:].isdigit()]
    return boards, [f for f in fans if f]


def _braiins_boards(replies: Mapping[str, Any], spec: catalog.ModelSpec | None) -> tuple[list[Board], list[int]]:
    chips = {r.get("ID"): integer(r.get("Chips")) for r in records(replies.get("devdetails"), "DEVDETAILS")}
    temps = {r.get("ID"): r for r in records(replies.get("temps"), "TEMPS")}
    boards: list[Board] = []
    for dev in records(replies.get("devs"), "DEVS"):
        ident, t = dev.get("ID"), temps.get(dev.get("ID"), {})
        boards.append(Board(
            index=len(boards), chips=chips.get(ident), chips_expected=spec.chips_per_board if spec else None,
            temp_board_c=num(t.get("Board")), temp_chip_c=num(t.get("Chip")),
            hashrate_hs=rates(dev).get("5s"), hw_errors=integer(dev.get("Hardware Errors")),
        ))
    fans = [integer(f.get("RPM")) for f in records(replies.get("fans"), "FANS")]
    return boards, [f for f in fans if f]


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

    def at(values: list[str], i: int, scale: float = 1.0) -> float | None:
        v = num(values[i]) if i < len(values) else None
        return None if v is None else v * scale

    return [Board(index=i, temp_board_c=at(avg, i), temp_chip_c=at(top, i), hashrate_hs=at(ghs, i, 1e9))
            for i in range(max(len(avg), len(top), len(ghs)))]


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
    power = num(tuner.get("ApproximateMinerPowerConsumption"))
    chains = [c for c in tuner.get("TunerChainStatus") or [] if isinstance(c, dict)]
    stable = all(str(c.get("Status", "")).startswith("Stable") for c in chains) if chains else None
    return power, stable


def normalise(identity: Identity, replies: Mapping[str, Any], t: float, wall: float) -> Poll:
    """One :class:`Poll` from the replies of one poll (keys: the commands sent).

    Raises:
        BadReply: no ``summary`` record (the one reply every poll needs).
    """
    summaries = records(replies.get("summary"), "SUMMARY")
    if not summaries:
        raise BadReply(f"{identity.address}: summary reply without a SUMMARY record")
    s = summaries[0]
    spec = catalog.lookup(identity.model)
    elapsed = num(s.get("Elapsed"))
    stats = records(replies.get("stats"), "STATS")
    chain_stats = next((r for r in stats if "chain_acn1" in r or any(k.startswith("chain_acn") for k in r)), {})
    if identity.family == "braiins":
        boards, fans = _braiins_boards(replies, spec)
    else:
        boards, fans = _stats_boards(chain_stats, spec)
    power = power_source = None
    stable: bool | None = None
    if identity.family == "braiins":
        tuner = (records(replies.get("tunerstatus"), "TUNERSTATUS") or [{}])[0]
        power, stable = _braiins_state(tuner)
        power_source = "tunerstatus ApproximateMinerPowerConsumption" if power is not None else None
    elif identity.family == "luxos":
        power = num((records(replies.get("power"), "POWER") or [{}])[0].get("Watts"))
        power_source = "power Watts" if power is not None else None
    elif identity.family == "avalon":
        mm = avalon_fields(replies.get("estats"))
        power = num(mm.get("WALLPOWER"))
        power_source = "estats WALLPOWER" if power is not None else None
        fans = [f for f in (integer(v) for k, v in mm.items() if re.fullmatch(r"Fan\d+", k)) if f]
        boards = _avalon_boards(mm)
    pools = records(replies.get("pools"), "POOLS")
    rate = rates(s)
    nominal = num(chain_stats.get("total_rateideal"))
    if nominal is not None:
        rate["nominal"] = nominal * unit_scale(chain_stats.get("rate_unit"))
    return Poll(
        t=t, wall=wall, identity=identity, elapsed_s=elapsed, counter=counter(s, elapsed), rates_hs=rate,
        accepted_difficulty=_total(s, pools, "Difficulty Accepted"),
        rejected_difficulty=_sum_opt(_total(s, pools, "Difficulty Rejected"), _total(s, pools, "Difficulty Stale")),
        shares=_shares(s, pools), hw_errors=integer(s.get("Hardware Errors")),
        power_w=power, power_source=power_source, fans_rpm=tuple(fans),
        boards=tuple(_fit_boards(boards, spec) if identity.family != "avalon" else boards), stable=stable,
    )


def _total(summary: Mapping[str, Any], pools: list[dict[str, Any]], key: str) -> float | None:
    """``key`` from the summary, else summed over the pools (None when nobody reports it)."""
    value = num(summary.get(key))
    if value is not None:
        return value
    values = [num(p.get(key)) for p in pools]
    found = [v for v in values if v is not None]
    return sum(found) if found else None


def _sum_opt(*values: float | None) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) if found else None


def _shares(summary: Mapping[str, Any], pools: list[dict[str, Any]]) -> int | None:
    counts = [_total(summary, pools, k) for k in ("Accepted", "Rejected", "Stale")]
    total = _sum_opt(*counts)
    return None if total is None else int(total)
