"""A miner's temperatures and fans per window: synthetic polls whose boards heat window by window, through
the record builder every miner run takes, and the parsing of intake and exhaust sides from real reply fields."""

from __future__ import annotations

import json

import pytest

from bench.miners.measure.outcome import Plan, analyse
from bench.miners.protocol import cgminer, whatsminer
from bench.miners.protocol.model import Board, Counter, Identity, Poll, Sample
from bench.miners.record.runrecord import miner_run
from bench.record import System, new_document
from bench.validation import validate_text

RATE = 100e12
PLAN = Plan(period_s=1.0, warmup_s=60.0, window_s=10.0, repeats=3, span_s=5.0)
M50 = Identity("10.0.0.6", 4028, "cgminer", "whatsminer", "MicroBT", "Whatsminer M50.VH50", "btminer 1", "WM1")
#: per 10-poll window: intake air, board 0's board / chip / intake side / exhaust side, fan 0 rpm
HEAT = [(25.0, 60.0, 75.0, 41.0, 58.0, 5400), (32.5, 66.0, 81.5, 47.0, 64.0, 6000), (40.0, 71.0, 88.0, 53.0, 70.0, 6600)]


def polls(t0: float = 100.0, elapsed0: float = 500.0, n: int = 31) -> list[Sample]:
    """Polls every second; poll k of window w (k = 0..9) carries HEAT[w]; the last closes window 2."""
    out: list[Sample] = []
    for i in range(n):
        env, board, chip, inlet, outlet, fan = HEAT[min(i // 10, 2)]
        e = elapsed0 + i
        h = e * RATE
        boards = (Board(0, 114, 114, board, chip, temp_inlet_c=inlet, temp_outlet_c=outlet),
                  Board(1, 114, 114, 59.0, 74.0))
        out.append(Poll(t=t0 + i, wall=t0 + i, identity=M50, elapsed_s=e, counter=Counter(h, 1e6, "Total MH"),
                        rates_hs={"5s": RATE, "nominal": RATE}, accepted_difficulty=h / 2**32, rejected_difficulty=0.0,
                        shares=int(h / 2**32 / 1024), hw_errors=0, power_w=3300.0, power_source="summary Power",
                        fans_rpm=(fan, 5430), boards=boards, stable=True, temp_env_c=env))
    return out


def test_each_window_carries_the_temperatures_and_fans_the_miner_reported_in_it() -> None:
    m = analyse(M50, polls(), PLAN)
    run = miner_run(m, PLAN, 100.0)
    assert run.ok and len(run.windows) == 3
    th = run.thermal
    assert th is not None
    dev = "asic:10.0.0.6"
    names = [c.name for c in th.channels]
    assert names[0] == f"{dev}.inlet_c" and th.inlet() is not None and th.inlet().name == f"{dev}.inlet_c"
    assert names[-2:] == [f"{dev}.fan0_rpm", f"{dev}.fan1_rpm"]
    roles = {c.name.split(".")[-1]: (c.source, c.role, c.unit) for c in th.channels}
    assert roles["inlet_c"] == ("miner", "inlet", "°C") and roles["board0_chip_c"] == ("miner", "chip", "°C")
    assert roles["board0_inlet_c"] == ("miner", "inlet", "°C") and roles["board0_outlet_c"] == ("miner", "outlet", "°C")
    assert roles["board0_c"] == ("miner", "board", "°C") and roles["fan0_rpm"] == ("miner", "fan", "rpm")
    assert "board1_inlet_c" not in roles  # board 1 does not tell its sides apart
    starts = [w.t_start for w in m.valid_windows]
    for key, col in (("inlet_c", 0), ("board0_c", 1), ("board0_chip_c", 2), ("board0_inlet_c", 3),
                     ("board0_outlet_c", 4), ("fan0_rpm", 5)):
        ch = th.channel(f"{dev}.{key}")
        assert ch is not None and ch.period_s == 1.0
        for n, w in enumerate(ch.windows):
            inside = [p for p in m.polls if starts[n] <= p.t < (starts[n + 1] if n + 1 < 3 else m.valid_windows[-1].t_end)]
            want = [HEAT[min(int(p.t - 100.0) // 10, 2)][col] for p in inside]
            assert w is not None and w.readings == len(want) and w.mean == pytest.approx(sum(want) / len(want)), key
    assert th.channel(f"{dev}.board1_c").summary.min == 59.0
    d = new_document(System(hostname="h"), [run])
    assert [f.line("r.json") for f in validate_text(json.dumps(d.to_json())).findings] == []


def test_antminer_pcb_sensors_in_in_out_out_and_whatsminer_env_temp() -> None:
    assert cgminer.sides("41-43-58-57") == (43.0, 58.0)
    assert cgminer.sides("50-51-62-0") == (51.0, 62.0)
    assert cgminer.sides("45-60") == (None, None) and cgminer.sides(60) == (None, None)
    stats = {"chain_acn1": 114, "temp_pcb1": "41-43-58-57", "temp_chip1": "56-58-73-72", "chain_rate1": "30000"}
    (board,), _ = cgminer._stats_boards(stats, None)
    assert (board.temp_board_c, board.temp_chip_c, board.temp_inlet_c, board.temp_outlet_c) == (58.0, 73.0, 43.0, 58.0)
    reply = {"summary": {"SUMMARY": [{"Elapsed": 100, "MHS av": 1e8, "Env Temp": 31.25, "Fan Speed In": 5400}]}}
    poll = whatsminer.normalise_v2(M50, reply, 1.0, 1.0)
    assert poll.temp_env_c == 31.25
    reply["summary"]["SUMMARY"][0]["Env Temp"] = -273  # a sensor's fault code is no reading
    assert whatsminer.normalise_v2(M50, reply, 1.0, 1.0).temp_env_c is None
