"""A miner's own heat protection as throttle: a Whatsminer (API v2) listing MicroBT's protection codes in chosen
windows gives a soak whose throttled time and reasons are the ones it was built with; codes that are no heat
protection, and firmwares that report none, give no throttled time (the soak says it is unknown, never 0); a
real ``miners run --soak`` against a simulated Whatsminer in temperature protection."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bench.miners.measure.outcome import Plan, analyse
from bench.miners.measure.throttle import PROTECTION, reasons
from bench.miners.protocol.model import Board, Counter, Identity, Poll
from bench.miners.record.runrecord import miner_run
from bench.record import load
from bench.testing.miners import SimFleet, SimMiner
from bench.validation import validate_file
from tests.bench.miners.helpers import cli

RATE = 100e12
M50 = Identity("10.0.0.8", 4028, "cgminer", "whatsminer", "MicroBT", "Whatsminer M50.VH50", "20240101", "W1")
S19 = Identity("10.0.0.7", 4028, "cgminer", "antminer", "Bitmain", "Antminer S19 Pro", "bmminer 1", "S1")
PLAN = Plan(period_s=1.0, warmup_s=60.0, window_s=10.0, repeats=10, span_s=5.0, soak_s=100.0)


def polls(identity: Identity, n: int = 140) -> list[Poll]:
    """A poll a second at a steady rate."""
    out = []
    for i in range(n):
        e = 500.0 + i
        out.append(Poll(t=100.0 + i, wall=100.0 + i, identity=identity, elapsed_s=e,
                        counter=Counter(RATE * e, 1e6, "Total MH"), rates_hs={"5s": RATE},
                        accepted_difficulty=RATE * e / 2**32, rejected_difficulty=0.0, shares=int(RATE * e / 2**42),
                        hw_errors=0, power_w=3300.0, power_source="summary Power",
                        boards=tuple(Board(b, 105, 105, 60.0, 80.0) for b in range(3)), stable=True))
    return out


def with_codes(got: list[Poll], codes: dict[tuple[float, float], tuple[str, ...]]) -> list[Poll]:
    """``got`` with the error codes each ``(start, end)`` span of poll times lists."""
    return [dataclasses.replace(p, errors=next((c for (a, b), c in codes.items() if a <= p.t < b), ()))
            for p in got]


def test_protection_codes_give_the_throttled_time_they_were_built_with() -> None:
    windows = analyse(M50, polls(M50), PLAN).valid_windows
    assert len(windows) == 10
    w = [(x.t_start, x.t_end) for x in windows]
    codes = {(w[3][0], w[4][1]): ("350", "531"),  # slot 0 temperature protecting, and a chip error beside it
             (w[7][0], w[7][1]): ("531",),  # a chip error alone: no heat protection
             (w[8][0], w[8][0] + 5.0): ("600",)}  # the room too hot for half a window
    run = miner_run(analyse(M50, with_codes(polls(M50), codes), PLAN), PLAN, 100.0)
    assert run.thermal is not None and run.soak is not None
    (th,) = run.thermal.throttle
    assert (th.device, th.source) == ("asic:10.0.0.8", "miner") and "Whatsminer API v2" in th.method
    seconds = [x.seconds if x is not None else None for x in th.windows]
    assert seconds == pytest.approx([0, 0, 0, 10, 10, 0, 0, 0, 5, 0])
    assert th.windows[3].reasons == {"board_temperature_protection": pytest.approx(10.0)}
    assert th.windows[7].reasons == {}  # 531 is no heat protection
    assert th.reasons == {"board_temperature_protection": pytest.approx(20.0), "environment_too_hot": pytest.approx(5.0)}
    s = run.soak
    assert s.throttled_s == pytest.approx(25.0) and s.throttled_fraction == pytest.approx(0.25)
    assert not any("throttle reasons" in n for n in s.notes)


def test_a_firmware_without_protection_codes_says_the_time_throttled_is_unknown() -> None:
    run = miner_run(analyse(S19, with_codes(polls(S19), {(0.0, 1e9): ("350",)}), PLAN), PLAN, 100.0)
    assert run.thermal is not None and run.thermal.throttle == []
    assert run.soak is not None and run.soak.throttled_s is None
    assert any("the time throttled is unknown" in n for n in run.soak.notes)


def test_the_table_of_codes() -> None:
    p = polls(M50, 1)[0]
    assert reasons(dataclasses.replace(p, errors=(" 352", "203", "234", "600", "610", "383", "361", "x", "5310"))) == [
        "board_temperature_protection", "psu_heat_protection", "environment_too_hot", "environment_too_hot_for_mode",
        "humidity_protection", "board_overheat"]
    assert all(100 <= code < 1000 for code in PROTECTION)
    assert reasons(dataclasses.replace(p, errors=("110", "531", "2010"))) == []


def test_a_simulated_whatsminer_in_temperature_protection_soaks_throttled(tmp_path: Path) -> None:
    def protecting(command: str, reply: dict[str, Any]) -> dict[str, Any]:
        if command == "summary":
            reply["SUMMARY"][0].update({"Error Code Count": 2, "Error Code 0": 351, "Error Code 1": 531})
        return reply

    path = tmp_path / "m.json"
    miner = SimMiner("127.0.0.126", family="whatsminer", model="Whatsminer M50.VH50", chips_expected=105,
                     hashrate_ths=120.0, power_w=3300.0, difficulty=64, seed=6, tamper=protecting)
    with SimFleet([miner]):
        code, out, err = cli("miners", "run", "127.0.0.126", "--period", "0.25", "--warmup", "5", "--window", "1",
                             "--soak", "3s", "--timeout", "1", "--out", str(path))
    assert code == 0, err
    (run,) = load(path).runs
    s = run.soak
    assert s is not None and s.windows == 3
    # sample-and-hold from the first poll in each window: the fraction is exact to the polls' timing (ms)
    assert s.throttled_fraction == pytest.approx(1.0, abs=0.01) and s.throttled_s == pytest.approx(s.duration_s, rel=0.01)
    (dev,) = s.throttle
    assert set(dev.reasons) == {"board_temperature_protection"}
    found = validate_file(path).findings
    assert [f for f in found if f.level == "error"] == [], [f.line(str(path)) for f in found]
