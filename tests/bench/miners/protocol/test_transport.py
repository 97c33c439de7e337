"""The raw-TCP boundary against hostile simulated miners on loopback: every read bounded in bytes, nesting and
time, each overrun one clear MinerError for that miner (and a scan with a bad address beside a good one goes on).

No test waits on a tight wall-clock margin: the limits under test are set far apart (a read timeout of a
fraction of a second inside a deadline of many seconds), and an assertion only tells them apart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from bench.miners.protocol.client import identify
from bench.miners.protocol.parse import BadReply, MinerError
from bench.miners.protocol.scan import scan
from bench.miners.protocol.transport import (
    DEFAULT_TIMEOUT_S,
    LIMITS,
    MAX_REPLY_BYTES,
    READ_TIMEOUT_S,
    Limits,
    NoAnswer,
    exchange,
    request,
)
from bench.testing.miners import SimFleet, SimMiner

Fleet = Callable[..., SimFleet]
#: A deadline no bounded exchange comes near: only a read timeout or a limit can end these exchanges early.
LONG = 60.0


def ask(miner: SimMiner, limits: Limits = LIMITS, timeout_s: float = LONG) -> list[dict[str, object]]:
    framed = miner.family == "whatsminer-v3"
    payload = {"cmd": "get.device.info"} if framed else {"command": "summary"}
    return asyncio.run(request(miner.host, miner.port or 4028, payload, timeout_s=timeout_s, framed=framed,
                               limits=limits))


def test_the_documented_defaults() -> None:
    limits = Limits()
    assert (limits.max_bytes, limits.max_depth, limits.read_timeout_s) == (MAX_REPLY_BYTES, 32, READ_TIMEOUT_S)
    assert MAX_REPLY_BYTES == 1 << 20 and READ_TIMEOUT_S == 2.0 and DEFAULT_TIMEOUT_S == 2.0


@pytest.mark.parametrize("mode, family", [("huge", "antminer"), ("endless", "antminer"), ("huge", "whatsminer-v3")])
def test_a_reply_over_the_byte_limit_is_refused_as_it_arrives(fleet: Fleet, mode: str, family: str) -> None:
    miner = SimMiner("127.0.0.141" if family == "antminer" else "127.0.0.142", family=family, mode=mode,
                     size=64 << 20, model="Whatsminer M60 VK30" if family != "antminer" else "Antminer S19 Pro")
    fleet(miner)
    with pytest.raises(BadReply, match=r"over 65,536( bytes)?: refused"):
        ask(miner, Limits(max_bytes=65536))


def test_a_v3_frame_announcing_more_than_the_limit_is_refused_unread(fleet: Fleet) -> None:
    miner = SimMiner("127.0.0.143", family="whatsminer-v3", model="Whatsminer M60 VK30", mode="bigframe")
    fleet(miner)
    with pytest.raises(BadReply, match="a v3 frame of 4,294,967,295 bytes"):
        ask(miner)


@pytest.mark.parametrize("mode", ["deep", "deeplist"])
def test_a_deeply_nested_reply_is_refused_not_a_recursion_error(fleet: Fleet, mode: str) -> None:
    miner = SimMiner("127.0.0.144", mode=mode, size=100_000)
    fleet(miner)
    with pytest.raises(BadReply, match="127.0.0.144:4028: a reply nested deeper than 32 levels"):
        ask(miner)
    with pytest.raises(BadReply, match="nested deeper than 32"):
        asyncio.run(identify(miner.host, timeout_s=LONG))


def test_a_miner_silent_mid_reply_is_cut_off_by_the_read_timeout_long_before_the_deadline(fleet: Fleet) -> None:
    miner = SimMiner("127.0.0.145", mode="stall")
    fleet(miner)
    t0 = time.monotonic()
    with pytest.raises(NoAnswer, match="silent for 0.3 s mid-reply"):
        ask(miner, Limits(read_timeout_s=0.3))
    assert time.monotonic() - t0 < LONG / 2, "the read timeout ended it, not the deadline"


def test_a_trickled_reply_ends_at_the_deadline_however_often_a_byte_comes(fleet: Fleet) -> None:
    miner = SimMiner("127.0.0.146", mode="trickle", trickle_s=0.01)  # every read comes well within its timeout
    fleet(miner)
    with pytest.raises(NoAnswer, match="no answer within 0.5 s"):
        ask(miner, Limits(read_timeout_s=LONG), timeout_s=0.5)


def test_the_read_timeout_never_outlasts_the_deadline(fleet: Fleet) -> None:
    miner = SimMiner("127.0.0.147", mode="hang")
    fleet(miner)
    t0 = time.monotonic()
    with pytest.raises(NoAnswer, match=r"0.4 s"):
        asyncio.run(exchange(miner.host, 4028, {"command": "summary"}, timeout_s=0.4, limits=Limits(read_timeout_s=LONG)))
    assert time.monotonic() - t0 < LONG / 2


def test_a_scan_with_every_kind_of_hostile_address_goes_on_and_finds_the_honest_miner(fleet: Fleet) -> None:
    hostile = [SimMiner("127.0.0.148", mode="deep"), SimMiner("127.0.0.149", mode="endless"),
               SimMiner("127.0.0.150", mode="garbage", size=4096), SimMiner("127.0.0.151", mode="bigint", size=5000),
               SimMiner("127.0.0.152", tamper=lambda c, r: {**r, "SUMMARY": [{"Total MH": 1e308, "Elapsed": 5}]}
                        if c == "summary" else r),
               SimMiner("127.0.0.153", family="whatsminer-v3", model="Whatsminer M60 VK30",
                        tamper=lambda c, r: {**r, "msg": {"miner": "M60"}} if c == "get.device.info" else r)]
    fleet(*hostile, SimMiner("127.0.0.154"))
    results = asyncio.run(scan([m.host for m in hostile] + ["127.0.0.154"], timeout_s=5.0))
    assert [r.identity is not None for r in results] == [False] * len(hostile) + [True]
    errors = [r.error or "" for r in results[:-1]]
    for error, expected in zip(errors, ["nested deeper than 32", "over 1,048,576 bytes", "not JSON",
                                        "not JSON a miner sends", "Total MH is 1e+308: not a count",
                                        "miner is 'M60', not an object"]):
        assert expected in error, errors


def test_every_overrun_is_a_miner_error() -> None:
    assert issubclass(NoAnswer, MinerError) and issubclass(BadReply, MinerError)
