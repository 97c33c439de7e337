"""`sitebench miners run` against simulated miners, then the whole chain on its file: validate, size, plan,
leaderboard, report and qualify (which FAILS the miner with missing chips); bad input is one line, exit 2."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.record import Document, load
from bench.testing.miners import SimFleet, SimMiner
from bench.validation import validate_file
from tests.bench.miners.helpers import RUN, cli


@dataclass
class Ran:
    code: int
    out: str
    err: str
    path: Path
    doc: Document


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    """Three simulated miners (a stock S19 Pro, a Whatsminer with 20 chips missing, a Braiins S19 Pro) and an
    address where nothing listens, measured once for every test of this module."""
    miners = [SimMiner("127.0.0.101", difficulty=64, seed=1),
              SimMiner("127.0.0.102", family="whatsminer", model="Whatsminer M50.VH50", chips_expected=105,
                       difficulty=64, seed=2, power_w=3300.0, missing=[0, 20, 0]),
              SimMiner("127.0.0.103", family="braiins", difficulty=64, seed=3, power_w=3260.0)]
    path = tmp_path_factory.mktemp("miners") / "m.json"
    with SimFleet(miners):
        code, out, err = cli("miners", "run", "127.0.0.101", "127.0.0.102", "127.0.0.103", "127.0.0.104", *RUN,
                             "--out", str(path))
    yield Ran(code, out, err, path, load(path))


def test_one_run_per_miner_within_1_percent_of_the_counters_and_the_file_validates(ran: Ran) -> None:
    assert ran.code == 1, "a named address that is not a miner fails its run (exit 1); the others go on"
    assert "Traceback" not in ran.err and f"result file: {ran.path}" in ran.err
    runs = {r.device: r for r in ran.doc.runs}
    assert set(runs) == {"asic:127.0.0.101", "asic:127.0.0.102", "asic:127.0.0.103", "asic:127.0.0.104"}
    assert runs["asic:127.0.0.104"].status == "failed" and "connection refused" in (runs["asic:127.0.0.104"].error or "")
    for dev, share in (("asic:127.0.0.101", 1.0), ("asic:127.0.0.102", 295 / 315), ("asic:127.0.0.103", 1.0)):
        run = runs[dev]
        assert run.ok and run.verified and run.workload == "sha256d" and len(run.throughput.units) == 2
        assert run.throughput.rate == pytest.approx(110e12 * share, rel=0.01), dev
    assert runs["asic:127.0.0.101"].power.modelled and runs["asic:127.0.0.103"].metrics["power_source"] == "firmware_estimate"
    found = validate_file(ran.path).findings
    assert found == [], [f.line(str(ran.path)) for f in found]
    assert "127.0.0.102" in ran.out and "295/315" in ran.out and "MODELLED" in ran.out


def test_size_plan_leaderboard_and_report_take_the_file(ran: Ran, tmp_path: Path) -> None:
    code, out, err = cli("size", str(ran.path), "--mw", "10", "--json")
    assert code == 0, err
    rows = {r["system"]: r for r in json.loads(out) if r["sized"]}
    whatsminer = rows["MicroBT Whatsminer M50.VH50 (mean of 1 miner)"]
    assert whatsminer["unit"] == "hash" and whatsminer["throughput_per_machine"] == pytest.approx(110e12 * 295 / 315,
                                                                                                 rel=0.01)
    assert rows["Bitmain Antminer S19 Pro (mean of 2 miners)"]["modelled"], "the least good power of the model's miners"
    plan = tmp_path / "plan.toml"
    shutil.copy(ran.path, tmp_path / "m.json")
    plan.write_text('[plan]\nname = "t"\n[[allocation]]\nname = "A"\nmw = 10\n[[allocation.use]]\nname = "mining"\n'
                    'share = 1.0\nresult = "m.json"\nmodel = "Whatsminer"\n')
    code, out, err = cli("plan", str(plan))
    assert code == 0 and "Whatsminer" in out, err
    store = tmp_path / "store" / "acme" / "2026"
    store.mkdir(parents=True)
    shutil.copy(ran.path, store / "m.json")
    code, out, err = cli("leaderboard", str(tmp_path / "store"), "--json")
    assert code == 0 and {e["device"] for e in json.loads(out)} >= {"asic:127.0.0.101", "asic:127.0.0.102"}, err
    html = tmp_path / "r.html"
    code, out, err = cli("report", str(ran.path), "--out", str(html))
    page = html.read_text()
    assert code == 0 and "ASIC miners" in page and "J/TH over 3 miner(s)" in page and "20 missing" in page, err


def test_qualify_fails_the_miner_with_missing_chips(ran: Ran, tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('[spec]\nname = "S19 class"\n[miners]\nmin_ths = 90\nmax_j_per_th = 35\nmax_temp_c = 95\n'
                    "max_hw_error_rate = 0.001\n")
    code, out, err = cli("qualify", str(ran.path), "--spec", str(spec))
    assert code == 1, err
    lines = {line.split("│")[2].strip(): line for line in out.splitlines() if line.count("│") > 4 and "asic:" in line}
    assert "PASS" in lines["asic:127.0.0.101"] and "PASS" in lines["asic:127.0.0.103"]
    assert "FAIL" in lines["asic:127.0.0.102"] and "20 chip(s) missing" in out and "295 of 315" in out
    assert "FAIL" in lines["asic:127.0.0.104"] and "connection refused" in out
    spec.write_text('[miners]\nmax_chips = 1\n')
    assert cli("qualify", str(ran.path), "--spec", str(spec))[0] == 2


@pytest.mark.parametrize("argv, message", [
    (["10.0.0.0/8"], "add --force"),
    ([], "no miner given"),
    (["127.0.0.105", "--window", "0.3", "--period", "0.25"], "--window >= 2 x --period"),
    (["127.0.0.105", "--out", "/proc/nope/m.json"], "--out"),
    (["127.0.0.105", "127.0.0.106", "--meter", "snmp:pdu,outlet=1"], "--meter measures one miner"),
    (["127.0.0.105", "--meter", "model"], "not the miner"),
    (["127.0.0.105", "--power-target", "2400,2400"], "--power-target '2400,2400': 2400 is given twice"),
    (["127.0.0.105", "--power-target", "3200:2400:100"], "a range needs 0 < LOW <= HIGH"),
    (["127.0.0.105", "--settle", "5"], "--settle needs --power-target"),
    (["127.0.0.105", "--hosts", "/nonexistent/hosts.txt"], "cannot read"),
    (["127.0.0.105", "--timeout", "0.3"], "no miner to measure: 127.0.0.105:4028: connection refused"),
    (["127.0.0.105", "--read-timeout", "0"], "--read-timeout > 0"),
    (["127.0.0.105", "--rate-tolerance", "1.5"], "--rate-tolerance 1.5: must be 0..0.9"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITEBENCH_MINER_PASSWORD", raising=False)
    if "--out" not in argv:
        argv = [*argv, "--out", str(tmp_path / "m.json")]
    code, out, err = cli("miners", "run", *argv)
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "m.json").exists()


def test_an_address_that_is_not_a_miner_is_a_failed_run_while_the_others_go_on(tmp_path: Path) -> None:
    with SimFleet([SimMiner("127.0.0.107", family="avalon", model="Avalon A1366", difficulty=64, power_w=3250.0)]):
        import socket

        with socket.socket() as other:  # something listens on 4028 but is not a miner: it closes at once
            other.bind(("127.0.0.108", 4028))
            other.listen()
            code, out, err = cli("miners", "run", "127.0.0.107", "127.0.0.108", *RUN, "--out", str(tmp_path / "m.json"))
    doc = load(tmp_path / "m.json")
    assert code == 1 and [r.status for r in doc.runs] == ["failed", "ok"], err
    assert doc.runs[0].device == "asic:127.0.0.108" and doc.runs[1].hardware and doc.runs[1].hardware.make == "Canaan"
