"""``miners run --soak``: a miner going hot whose hash rate falls at a known rate per hour, through the record
builder every miner run takes (polls with their own clock, so nothing waits on wall time); a real ``miners run
--soak`` against a simulated miner end to end; bad input in one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.miners.measure.outcome import Plan, analyse
from bench.miners.protocol.model import Board, Counter, Identity, Poll, Sample
from bench.miners.record.runrecord import miner_run
from bench.record import System, load, new_document
from bench.testing.miners import SimFleet, SimMiner
from bench.validation import validate_file, validate_text
from tests.bench.miners.helpers import cli

RATE = 100e12
#: the miner's rate falls by this fraction of RATE per hour of its own clock while its boards heat
FALL_PER_H = 0.06
S19 = Identity("10.0.0.7", 4028, "cgminer", "antminer", "Bitmain", "Antminer S19 Pro", "bmminer 1", "S1")
PLAN = Plan(period_s=1.0, warmup_s=60.0, window_s=10.0, repeats=30, span_s=5.0, soak_s=300.0, drift_threshold=0.01)


def hot_polls(n: int = 340) -> list[Sample]:
    """A poll a second: the rate ``RATE (1 - FALL_PER_H e / 3600)`` at ``e`` seconds, the counter its integral,
    boards 0.1 C hotter each second."""
    out: list[Sample] = []
    for i in range(n):
        e = 500.0 + i
        h = RATE * (e - FALL_PER_H * e * e / 7200)
        boards = tuple(Board(b, 114, 114, 60.0 + 0.1 * i, 75.0 + 0.1 * i) for b in range(3))
        out.append(Poll(t=100.0 + i, wall=100.0 + i, identity=S19, elapsed_s=e, counter=Counter(h, 1e6, "Total MH"),
                        rates_hs={"5s": RATE, "nominal": RATE}, accepted_difficulty=h / 2**32, rejected_difficulty=0.0,
                        shares=int(h / 2**32 / 1024), hw_errors=0, power_w=3250.0, power_source="summary Power",
                        fans_rpm=(5400,), boards=boards, stable=True))
    return out


def test_a_miner_going_hot_soaks_with_the_drift_it_was_built_with() -> None:
    run = miner_run(analyse(S19, hot_polls(), PLAN), PLAN, 100.0)
    s = run.soak
    assert run.ok and s is not None
    assert (s.requested_s, s.window_s, s.planned_windows, s.windows) == (300.0, 10.0, 30, 30)
    assert s.duration_s == pytest.approx(300.0)
    assert s.throughput is not None and s.efficiency is not None
    # the rate is linear in time, so each window's rate is the rate at its mid-time: the slope is exact
    built = -RATE * FALL_PER_H / s.throughput.mean
    assert s.throughput.per_hour == pytest.approx(built, rel=1e-6)
    assert s.throughput.per_hour == pytest.approx(-FALL_PER_H, rel=0.02)  # of the mean, not of the first rate
    assert s.efficiency.per_hour == pytest.approx(s.throughput.per_hour, rel=1e-6)  # at a constant 3,250 W
    assert s.throughput.verdict == "drifting" and s.verdict == "drifting"
    assert s.throttled_s is None and any("throttle reasons" in n for n in s.notes)  # no firmware here reports any
    hottest = run.thermal.channel("asic:10.0.0.7.board0_c") if run.thermal is not None else None
    assert hottest is not None and hottest.windows[-1].mean > hottest.windows[0].mean + 25  # type: ignore[union-attr]
    doc = new_document(System(hostname="h"), [run])
    assert [f.line("r.json") for f in validate_text(json.dumps(doc.to_json())).findings] == []
    forged = doc.model_copy(update={"runs": [run.model_copy(update={"soak": s.model_copy(update={"verdict": "stable"})})]})
    assert any("[soak]" in f.line("r.json") for f in validate_text(json.dumps(forged.to_json())).findings)


def test_a_plan_without_a_soak_or_with_one_out_of_bounds_gives_no_block() -> None:
    plain = Plan(period_s=1.0, warmup_s=60.0, window_s=10.0, repeats=30, span_s=5.0)
    assert miner_run(analyse(S19, hot_polls(), plain), plain, 100.0).soak is None
    assert Plan(soak_s=-5.0).soak is None and Plan(soak_s=60.0, drift_threshold=0.0).soak is None


def test_a_real_miners_soak_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    with SimFleet([SimMiner("127.0.0.121", difficulty=64, seed=4)]):
        code, out, err = cli("miners", "run", "127.0.0.121", "--period", "0.25", "--warmup", "5", "--window", "1",
                             "--soak", "4s", "--timeout", "1", "--out", str(path))
    assert code == 0, err
    (run,) = load(path).runs
    s = run.soak
    assert s is not None and (s.planned_windows, s.windows) == (4, 4) and s.throughput is not None
    assert "soak: sha256d on asic:127.0.0.121: 4 windows" in out
    found = validate_file(path).findings
    assert [f for f in found if f.level == "error"] == [], [f.line(str(path)) for f in found]


@pytest.mark.parametrize(("args", "says"), [
    (["--soak", "2s", "--window", "3"], "--soak 2s: shorter than one window (3 s)"),
    (["--soak", "1m", "--repeats", "2"], "--soak and --repeats"),
    (["--soak", "soon"], "--soak 'soon': not a duration"),
    (["--drift-threshold", "1"], "--drift-threshold: only with --soak"),
])
def test_bad_soak_input_is_one_line_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    code, _, err = cli("miners", "run", "127.0.0.122", *args, "--out", str(tmp_path / "m.json"))
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "m.json").exists()
