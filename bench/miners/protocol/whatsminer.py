"""Whatsminer replies -> :class:`Poll`: API v2 (cgminer-style JSON on 4028) and API v3 (4433).

API v2 ``summary`` carries ``Total MH``, ``Elapsed``, ``MHS av``/``5s``/``1m``, ``Power``,
``Factory GHS``, ``Fan Speed In``/``Out``, ``Hash Stable`` (the firmware's own stability
flag) and ``Error Code N``; ``edevs`` lists the boards (``Effective Chips``, ``Temperature``,
``Chip Temp Max``, ``PCB SN``). API v3 (``get.miner.status`` with ``summary+edevs+pools``)
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
from bench.miners.protocol.cgminer import counter, records
from bench.miners.protocol.model import Board, Counter, Identity, Poll
from bench.miners.protocol.parse import BadReply, first, integer, num, rates

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


def normalise_v2(identity: Identity, replies: Mapping[str, Any], t: float, wall: float) -> Poll:
    """One poll of API v2 replies (``summary``, ``edevs``, ``pools``).

    Raises:
        BadReply: no SUMMARY record.
    """
    summaries = records(replies.get("summary"), "SUMMARY")
    if not summaries:
        raise BadReply(f"{identity.address}: summary reply without a SUMMARY record")
    s = summaries[0]
    elapsed = num(s.get("Elapsed"))
    expected = _chips_expected(identity)
    boards = tuple(
        Board(index=i, chips=integer(d.get("Effective Chips")), chips_expected=expected,
              temp_board_c=num(d.get("Temperature")), temp_chip_c=num(first(d, "Chip Temp Max", "Chip Temp Avg")),
              hashrate_hs=first(rates(d), "1m", "av", "5s"), hw_errors=integer(d.get("Hardware Errors")),
              serial=d.get("PCB SN") if isinstance(d.get("PCB SN"), str) else None)
        for i, d in enumerate(records(replies.get("edevs"), "DEVS"))
    )
    pools = records(replies.get("pools"), "POOLS")
    rate = rates(s)
    factory = num(s.get("Factory GHS"))
    if factory is not None:
        rate["nominal"] = factory * 1e9
    power = num(s.get("Power"))

    def total(key: str) -> float | None:
        found = [v for v in (num(p.get(key)) for p in pools) if v is not None]
        return num(s.get(key)) if num(s.get(key)) is not None else (sum(found) if found else None)

    rejected = [v for v in (total("Difficulty Rejected"), total("Difficulty Stale")) if v is not None]
    counts = [v for v in (total("Accepted"), total("Rejected"), total("Stale")) if v is not None]
    board_hw = [b.hw_errors for b in boards if b.hw_errors is not None]
    return Poll(
        t=t, wall=wall, identity=identity, elapsed_s=elapsed, counter=counter(s, elapsed), rates_hs=rate,
        accepted_difficulty=total("Difficulty Accepted"), rejected_difficulty=sum(rejected) if rejected else None,
        shares=int(sum(counts)) if counts else None,
        hw_errors=integer(s.get("Hardware Errors")) if s.get("Hardware Errors") is not None
        else (sum(board_hw) if board_hw else None),
        power_w=power, power_source="summary Power" if power is not None else None,
        fans_rpm=tuple(f for f in (integer(s.get("Fan Speed In")), integer(s.get("Fan Speed Out"))) if f),
        boards=boards, stable=_flag(s.get("Hash Stable")),
        errors=tuple(str(v) for k, v in s.items() if _ERROR_CODE.match(k)),
    )


def v3_counter(summary: Mapping[str, Any], elapsed: float | None) -> Counter | None:
    """``hash-average`` (TH/s since start, three decimals) x ``elapsed`` (whole seconds)."""
    avg = num(summary.get("hash-average"))
    if avg is None or elapsed is None:
        return None
    rate = avg * 1e12
    return Counter(rate * elapsed, rate * 1.0 + 0.0005e12 * elapsed, "hash-average x elapsed")


def normalise_v3(identity: Identity, msg: Mapping[str, Any], t: float, wall: float) -> Poll:
    """One poll of an API v3 ``get.miner.status`` message (``summary``, ``edevs``, ``pools``).

    Raises:
        BadReply: no summary object.
    """
    s = msg.get("summary")
    if not isinstance(s, dict):
        raise BadReply(f"{identity.address}: get.miner.status without a summary")
    elapsed = num(s.get("elapsed"))
    expected = _chips_expected(identity)
    temps = s.get("board-temperature")
    board_temps: list[Any] = temps if isinstance(temps, list) else []
    edevs = [d for d in msg.get("edevs") or [] if isinstance(d, dict)]
    boards = tuple(
        Board(index=i, chips=integer(d.get("effective-chips")), chips_expected=expected,
              temp_board_c=num(board_temps[i]) if i < len(board_temps) else None,
              temp_chip_c=num(d.get("chip-temp-max")),
              hashrate_hs=None if num(d.get("hash-average")) is None else num(d.get("hash-average")) * 1e12)  # type: ignore[operator]
        for i, d in enumerate(edevs)
    )
    rate = {name: v * 1e12 for name, key in (("av", "hash-average"), ("realtime", "hash-realtime"),
                                             ("1m", "hash-1min"), ("15m", "hash-15min"),
                                             ("nominal", "factory-hash"))
            if (v := num(s.get(key))) is not None}
    power = num(s.get("power-realtime"))
    return Poll(
        t=t, wall=wall, identity=identity, elapsed_s=elapsed, counter=v3_counter(s, elapsed), rates_hs=rate,
        power_w=power, power_source="summary power-realtime" if power is not None else None,
        fans_rpm=tuple(f for f in (integer(s.get("fan-speed-in")), integer(s.get("fan-speed-out"))) if f),
        boards=boards, stable=_flag(s.get("up-freq-finish")),
    )
