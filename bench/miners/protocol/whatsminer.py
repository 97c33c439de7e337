"""Whatsminer replies -> :class:`Poll`: API v2 (cgminer-style JSON on 4028) and API v3 (4433).

API v2 ``summary`` carries ``Total MH``, ``Elapsed``, ``MHS av``/``5s``/``1m``, ``Power``,
``Factory GHS``, ``Fan Speed In``/``Out``, ``Env Temp`` (the air at its intake), ``Hash Stable``
(the firmware's own stability flag) and ``Error Code N``; ``edevs`` lists the boards
(``Effective Chips``, ``Temperature``, ``Chip Temp Max``, ``PCB SN``). API v3 (``get.miner.status`` with ``summary+edevs+pools``)
reports rates in TH/s (``hash-average`` since start, ``hash-realtime``, ``factory-hash``),
``elapsed``, ``power-realtime``, ``board-temperature``, ``up-freq-finish`` (stability) and
per-board ``effective-chips``; it has no hash counter and no share difficulty, so its counter
is ``hash-average`` x ``elapsed`` (with that product's resolution) and its pool shares
cannot be cross-checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bench.miners.protocol import catalog
from bench.miners.protocol.cgminer import (
    chips,
    counter,
    elapsed_of,
    fan,
    records,
    share_difficulty,
    temperature,
)
from bench.miners.protocol.model import Board, Counter, Identity, Poll
from bench.miners.protocol.parse import (
    MAX_COUNT,
    MAX_DIFFICULTY,
    MAX_RATE_HS,
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
)

_ERROR_CODE = re.compile(r"^Error Code \d+$")


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    return None


def _chips_expected(identity: Identity) -> int | None:
    spec = catalog.lookup(identity.model)
    return spec.chips_per_board if spec else None


@edge(lambda identity, *_: identity.address)
def normalise_v2(identity: Identity, replies: Mapping[str, Any], t: float, wall: float) -> Poll:
    """One poll of API v2 replies (``summary``, ``edevs``, ``pools``).

    Raises:
        BadReply: no SUMMARY record, a counter or power out of its bounds, or a reply of unexpected shape.
    """
    summaries = records(replies.get("summary"), "SUMMARY")
    if not summaries:
        raise BadReply(f"{identity.address}: summary reply without a SUMMARY record")
    s = summaries[0]
    elapsed = elapsed_of(s)
    expected = _chips_expected(identity)
    boards = tuple(
        Board(index=i, chips=chips(d.get("Effective Chips")), chips_expected=expected,
              temp_board_c=temperature(d.get("Temperature")),
              temp_chip_c=temperature(first(d, "Chip Temp Max", "Chip Temp Avg")),
              hashrate_hs=first(rates(d), "1m", "av", "5s"), hw_errors=integer(d.get("Hardware Errors")),
              serial=d["PCB SN"][:200] if isinstance(d.get("PCB SN"), str) else None)
        for i, d in enumerate(records(replies.get("edevs"), "DEVS")[:16])
    )
    pools = records(replies.get("pools"), "POOLS")[:16]
    rate = rates(s)
    factory = num(s.get("Factory GHS"))
    if factory is not None and (nominal := bounded(factory * 1e9, 0, MAX_RATE_HS)):
        rate["nominal"] = nominal
    watts = power(s.get("Power"), "summary Power")

    def total(key: str, limit: float = MAX_COUNT) -> float | None:
        mine = count(s, key, limit)
        found = [v for v in (count(p, key, limit) for p in pools) if v is not None]
        return mine if mine is not None else (sum(found) if found else None)

    rejected = [v for v in (total("Difficulty Rejected", MAX_DIFFICULTY), total("Difficulty Stale", MAX_DIFFICULTY))
                if v is not None]
    counts = [v for v in (total("Accepted"), total("Rejected"), total("Stale")) if v is not None]
    board_hw = [b.hw_errors for b in boards if b.hw_errors is not None]
    hw = count(s, "Hardware Errors", MAX_COUNT)
    return Poll(
        t=t, wall=wall, identity=identity, elapsed_s=elapsed, counter=counter(s, elapsed), rates_hs=rate,
        accepted_difficulty=total("Difficulty Accepted", MAX_DIFFICULTY),
        rejected_difficulty=sum(rejected) if rejected else None,
        shares=int(sum(counts)) if counts else None,
        hw_errors=round(hw) if hw is not None else (sum(board_hw) if board_hw else None),
        power_w=watts, power_source="summary Power" if watts is not None else None,
        fans_rpm=tuple(f for f in (fan(s.get("Fan Speed In")), fan(s.get("Fan Speed Out"))) if f),
        boards=boards, stable=_flag(s.get("Hash Stable")),
        errors=tuple(str(v)[:200] for k, v in s.items() if _ERROR_CODE.match(k))[:32],
        share_difficulty=share_difficulty(pools), temp_env_c=temperature(s.get("Env Temp")),
    )


def v3_counter(summary: Mapping[str, Any], elapsed: float | None) -> Counter | None:
    """``hash-average`` (TH/s since start, three decimals) x ``elapsed`` (whole seconds).

    Raises:
        BadReply: ``hash-average`` is no miner's rate (over 1 EH/s, negative, not a number).
    """
    avg = count(summary, "hash-average", MAX_RATE_HS / 1e12)
    if avg is None or elapsed is None:
        return None
    rate = avg * 1e12
    return Counter(rate * elapsed, rate * 1.0 + 0.0005e12 * elapsed, "hash-average x elapsed")


def _ths(value: Any) -> float | None:
    """A rate in TH/s as H/s (None when not a miner's rate)."""
    v = num(value)
    return None if v is None else bounded(v * 1e12, 0, MAX_RATE_HS)


@edge(lambda identity, *_: identity.address)
def normalise_v3(identity: Identity, msg: Mapping[str, Any], t: float, wall: float) -> Poll:
    """One poll of an API v3 ``get.miner.status`` message (``summary``, ``edevs``, ``pools``).

    Raises:
        BadReply: no summary object, a counter or power out of its bounds, or a reply of unexpected shape.
    """
    s = msg.get("summary")
    if not isinstance(s, dict):
        raise BadReply(f"{identity.address}: get.miner.status without a summary")
    elapsed = elapsed_of(s, "elapsed")
    expected = _chips_expected(identity)
    board_temps = items(s, "board-temperature")
    edevs = [d for d in items(msg, "edevs") if isinstance(d, dict)][:16]
    boards = tuple(
        Board(index=i, chips=chips(d.get("effective-chips")), chips_expected=expected,
              temp_board_c=temperature(board_temps[i]) if i < len(board_temps) else None,
              temp_chip_c=temperature(d.get("chip-temp-max")), hashrate_hs=_ths(d.get("hash-average")))
        for i, d in enumerate(edevs)
    )
    rate = {name: v for name, key in (("av", "hash-average"), ("realtime", "hash-realtime"), ("1m", "hash-1min"),
                                      ("15m", "hash-15min"), ("nominal", "factory-hash"))
            if (v := _ths(s.get(key))) is not None}
    watts = power(s.get("power-realtime"), "summary power-realtime")
    return Poll(
        t=t, wall=wall, identity=identity, elapsed_s=elapsed, counter=v3_counter(s, elapsed), rates_hs=rate,
        power_w=watts, power_source="summary power-realtime" if watts is not None else None,
        fans_rpm=tuple(f for f in (fan(s.get("fan-speed-in")), fan(s.get("fan-speed-out"))) if f),
        boards=boards, stable=_flag(s.get("up-freq-finish")),
    )
