"""`miners run --power-target`: a three-point sweep against simulated miners over real TCP, each point measured as a
run of its own, every miner put back at its original target; the setting a fixed MW buys the most at, and its gain
over stock, are the curve's own within the measurement's bounds; bad input is one line, exit 2, nothing changed.

The measured sweep runs on a simulated Braiins OS+ S19j Pro (its power target over the firmware's gRPC API, its
hashes from the cgminer-family counter): a Whatsminer API v3 counter (hash-average x whole seconds elapsed) is only
within 1% over windows of some 200 s, so v3 miners are swept here for their writes, refusals and restores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.miners.measure.window import MAX_RESOLUTION
from bench.record import Document, load
from bench.sizing.frontier import choose, envelopes
from bench.sizing.model import Allocation
from bench.sizing.power import machine_power
from bench.testing.miners import SimFleet, SimMiner
from bench.testing.power_curve import PowerCurve
from bench.validation import validate_file
from tests.bench.miners.helpers import RUN, cli

pytest.importorskip("grpc", reason="grpcio is the braiins extra: the measured sweep runs on a Braiins OS+ miner")

from bench.testing.braiins_server import BraiinsServer  # noqa: E402 - needs grpcio

PASSWORD = "Sw33p-pw"
S19J = PowerCurve(96.0, 2850.0)
POINTS = (1905.0, 2400.0, 2850.0)
#: The simulated firmware says it is stable once within 0.1% of its new point (bench.testing.power_curve).
SETTLED = 1e-3


@dataclass
class Swept:
    code: int
    out: str
    err: str
    path: Path
    doc: Document
    miner: SimMiner
    calls: list[str]


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One S19j Pro on Braiins OS+ held at 2,600 W by its owner, swept over 1905,2400,stock once for the module."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SITEBENCH_MINER_PASSWORD", PASSWORD)
    mp.delenv("SITEBENCH_MINER_ACCOUNT", raising=False)
    miner = SimMiner("127.0.28.21", family="braiins", model="Antminer S19j Pro", chips_expected=126, curve=S19J, tau_s=0.5,
                     limit_w=2600.0, difficulty=64, seed=21)
    path = tmp_path_factory.mktemp("sweep") / "sweep.json"
    try:
        with SimFleet([miner]), BraiinsServer(miner, password=PASSWORD) as server:
            code, out, err = cli("miners", "run", miner.host, *RUN, "--power-target", "1905,2400,stock", "--settle",
                                 "0.5", "--out", str(path))
            yield Swept(code, out, err, path, load(path), miner, list(server.calls))
    finally:
        mp.undo()


def test_each_point_is_a_run_of_its_own_with_its_setting_and_the_miner_is_put_back(swept: Swept) -> None:
    assert swept.code == 0, swept.err
    assert "Traceback" not in swept.err and PASSWORD not in swept.path.read_text() + swept.err
    runs = swept.doc.runs
    assert [r.setting.requested if r.setting else None for r in runs] == list(POINTS)
    for run, watts in zip(runs, POINTS):
        s = run.setting
        assert run.ok and run.verified and run.device == "asic:127.0.28.21" and s is not None
        assert (s.knob, s.target, s.unit) == ("miner.power_target", "127.0.28.21:50051", "W")
        assert (s.read_back, s.original, s.limit_w, s.settle_s) == (watts, 2600.0, watts, 0.5)
        assert s.stock is (watts == 2850.0) and not s.over_limit
    assert swept.miner.target_w == 2600.0, "back at its original target"
    assert all(label in swept.out for label in ("1905 W", "2400 W", "2850 W (stock)")), "the table labels each point"
    assert swept.calls.count("SetPowerTarget") == 4, "three points and the restore"
    assert not Path(f"{swept.path}.journal.jsonl").exists()
    found = [f for f in validate_file(swept.path).findings if f.level == "error"]
    assert found == [], [f.line(str(swept.path)) for f in found]


def test_each_point_measures_what_the_curve_says_within_the_runs_bounds(swept: Swept) -> None:
    for run, watts in zip(swept.doc.runs, POINTS):
        ths, power = S19J.point(watts)
        rate = run.throughput.rate
        assert rate is not None and run.power.avg_w is not None
        # the counter's own resolution is at most MAX_RESOLUTION of a window's hashes (windows over it are refused),
        # and the miner is measured once its firmware says it is within SETTLED of its new point
        assert rate == pytest.approx(ths * 1e12, rel=MAX_RESOLUTION + SETTLED), watts
        p = machine_power(run)
        assert p.low_w <= power <= p.high_w, (watts, p)
        assert run.power.avg_w == pytest.approx(power, rel=SETTLED + 0.5 / power), "the firmware's own figure, in whole W"


def test_the_setting_that_buys_the_most_for_the_mw_and_its_gain_are_the_curves(swept: Swept) -> None:
    (envelope,) = envelopes(swept.doc, str(swept.path), Allocation(100.0))
    assert [p.setting.requested for p in envelope.frontier] == list(POINTS), "J/TH rises with the hash rate"
    choice = choose(envelope, 100.0)
    best = S19J.best(list(POINTS))
    assert best == 1905.0 and choice.point.setting.requested == best
    implied = 1 + S19J.gain_per_mw(best)  # +16.1%: 25.6 J/TH against 29.7 J/TH
    gain = choice.throughput_gain
    assert gain is not None and gain.low <= implied <= gain.high, (gain, implied)
    assert gain.value == pytest.approx(implied, rel=MAX_RESOLUTION + 2 * SETTLED + 1e-3), "whole machines in 100 MW"
    assert "at 1905 W: +16% throughput per MW" in choice.gain_text()


def test_a_sweep_without_the_permission_or_out_of_range_changes_nothing(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    v3 = SimMiner("127.0.28.22", family="whatsminer-v3", model="Whatsminer M60 VK30", curve=S19J, password=PASSWORD,
                  limit_w=2600.0)
    avalon = SimMiner("127.0.28.23", family="avalon", model="Avalon A1366")
    out = tmp_path / "m.json"
    cases = [
        ([v3.host, "--power-target", "2400,stock"], "SITEBENCH_MINER_PASSWORD", None),
        ([v3.host, "--power-target", "2400,3200"], "3200 W is outside the device's own range (1425-2850 W", PASSWORD),
        ([v3.host, "--power-target", "2400,turbo"], "'turbo' is not a number of W", PASSWORD),
        ([v3.host, avalon.host, "--power-target", "2400"], "offers no power target or mode sitebench can set", PASSWORD),
    ]
    with SimFleet([v3, avalon]):
        for argv, message, password in cases:
            if password is None:
                monkeypatch.delenv("SITEBENCH_MINER_PASSWORD", raising=False)
            else:
                monkeypatch.setenv("SITEBENCH_MINER_PASSWORD", password)
            code, _, err = cli("miners", "run", *argv, *RUN, "--out", str(out))
            assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err, err
            assert "nothing was changed" in err
    assert v3.writes == [] and v3.target_w == 2600.0 and not out.exists()
    assert not Path(f"{out}.journal.jsonl").exists()


def test_a_firmware_without_the_command_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def older(command: str, reply: dict[str, Any]) -> dict[str, Any]:
        return {"code": -2, "when": 1700000000, "desc": command, "msg": "Invalid command"} \
            if command == "get.miner.setting" else reply

    monkeypatch.setenv("SITEBENCH_MINER_PASSWORD", PASSWORD)
    good = SimMiner("127.0.28.24", family="whatsminer-v3", model="Whatsminer M60 VK30", curve=S19J, password=PASSWORD)
    old = SimMiner("127.0.28.25", family="whatsminer-v3", model="Whatsminer M60 VK30", password=PASSWORD, tamper=older)
    with SimFleet([good, old]):
        code, _, err = cli("miners", "run", good.host, old.host, *RUN, "--power-target", "2400",
                           "--out", str(tmp_path / "m.json"))
    assert code == 2 and "127.0.28.25:4433" in err and "does not answer get.miner.setting" in err, err
    assert good.writes == [] and old.writes == [] and good.target_w == 2850.0


def test_a_miner_that_draws_over_its_target_is_flagged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_MINER_PASSWORD", PASSWORD)
    miner = SimMiner("127.0.28.26", family="braiins", model="Antminer S19j Pro", chips_expected=126, curve=S19J,
                     tau_s=0.5, limit_w=2600.0, difficulty=64)
    out = tmp_path / "m.json"
    with SimFleet([miner]), BraiinsServer(miner, password=PASSWORD):
        monkeypatch.setattr(miner, "retarget", lambda watts: None)  # the firmware says yes and goes on drawing 2,600 W
        code, stdout, err = cli("miners", "run", miner.host, *RUN, "--power-target", "1905", "--settle", "0",
                                "--out", str(out))
    (run,) = load(out).runs
    s = run.setting
    assert code == 0 and s is not None and s.requested == 1905.0 and s.read_back == 2600.0, err
    assert run.power.avg_w == pytest.approx(2600.0, rel=SETTLED) and s.over_limit, "2,600 W > 1,905 W + 10% assumed"
    assert any(n.startswith("OVER LIMIT: measured 2600") for n in s.notes) and "OVER LIMIT" in stdout
