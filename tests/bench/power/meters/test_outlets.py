"""Each miner's own PDU outlet as its wall meter: the outlet map, one SNMP GET per PDU, and `miners run
--outlets` against simulated miners and a real SNMP agent (snmpsim): J/TH within the outlet's accuracy of
outlet W / TH/s, the firmware's figure checked against the outlet, bad maps and credentials one line, exit 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.power.meters.outlets import Pdu, read_map
from bench.record import load
from bench.testing.miners import SimFleet, SimMiner
from bench.validation import validate_file
from tests.bench.miners.helpers import RUN, cli


@pytest.mark.parametrize("text, message", [
    ("10.0.0.5,pdu1\n", "expected 'miner host, PDU host[:port], outlet[, key=value]...', got 2 column(s)"),
    ("10.0.0.5,pdu1:99999,3\n", "PDU port '99999' is not a UDP port"),
    ("10.0.0.5,pdu1,A3\n", "outlet 'A3' is not an outlet number"),
    ("10.0.0.5,pdu1,3\n10.0.0.5,pdu1,4\n", "line 2: miner 10.0.0.5 is already mapped on line 1"),
    ("10.0.0.5,pdu1,3\n10.0.0.6,pdu1:161,3\n", "outlet 3 of pdu1:161 is already 10.0.0.5's"),
    ("10.0.0.5,pdu1,3,community=s3cret\n", "community= does not belong here: it is a credential"),
    ("10.0.0.5,pdu1,3,phase=2\n", "option 'phase' not understood"),
    ("# nothing\n", "no miner in the map"),
])
def test_a_malformed_map_is_one_usage_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "map.csv"
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        read_map(path)
    assert message in str(info.value) and "\n" not in str(info.value) and "s3cret" not in str(info.value)


def test_a_header_comments_and_options_are_read(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("miner,pdu,outlet\n# rack 7\n10.0.0.5, pdu-7:1161, 3, mib=apc, period=2\n10.0.0.6,pdu-7:1161,1.1.4\n")
    got = read_map(path)
    assert got["10.0.0.5"].pdu == "pdu-7" and got["10.0.0.5"].port == 1161 and got["10.0.0.5"].options == (
        ("mib", "apc"), ("period", "2"))
    assert got["10.0.0.6"].outlet == "1.1.4" and got["10.0.0.6"].line == 4


needs_agent = pytest.mark.skipif(find_spec("snmpsim") is None or find_spec("pysnmp") is None,
                                 reason="snmpsim or pysnmp is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from tests.bench.power.meters.snmpagent import Agent

    a = Agent(tmp_path_factory.mktemp("snmpsim"))
    yield a
    a.stop()


@needs_agent
def test_one_get_per_pdu_reads_all_its_outlets(agent: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNMP_COMMUNITY", "miners-pdu")
    pdu = Pdu("127.0.0.1", agent.port, ["1", "2", "3"], {})  # type: ignore[attr-defined]
    calls: list[list[str]] = []
    get = pdu.client.get
    monkeypatch.setattr(pdu.client, "get", lambda oids: calls.append(oids) or get(oids))
    try:
        assert pdu.fetch() == {"1": 3290.0, "2": 3310.0, "3": 2950.0} and len(calls) == 1 and len(calls[0]) == 3
        assert pdu.mib_name == "apc" and pdu.accuracy["1"] == 0.03 and pdu.lsd_w == 1.0
    finally:
        pdu.close()


def write_map(tmp_path: Path, port: int, *rows: str) -> Path:
    path = tmp_path / "outlets.csv"
    path.write_text("miner,pdu,outlet,options\n" + "".join(f"{r.replace('PDU', f'127.0.0.1:{port}')}\n" for r in rows))
    return path


@needs_agent
def test_miners_run_with_outlets_j_per_th_within_the_outlet_accuracy(agent: object, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNMP_COMMUNITY", "miners-pdu")
    port = agent.port  # type: ignore[attr-defined]
    miners = [SimMiner("127.0.0.121", family="whatsminer", model="Whatsminer M50.VH50", chips_expected=105,
                       difficulty=64, power_w=3250.0),
              SimMiner("127.0.0.122", difficulty=64),
              SimMiner("127.0.0.123", family="whatsminer", model="Whatsminer M50.VH50", chips_expected=105,
                       difficulty=64, power_w=2500.0)]
    outlets = write_map(tmp_path, port, "127.0.0.121,PDU,1,period=0.2", "127.0.0.122,PDU,2,period=0.2",
                        "127.0.0.123,PDU,3,period=0.2")
    out = tmp_path / "m.json"
    with SimFleet(miners):
        code, stdout, err = cli("miners", "run", "127.0.0.121", "127.0.0.122", "127.0.0.123", *RUN,
                                "--outlets", str(outlets), "--out", str(out))
    assert code == 0, err
    doc = load(out)
    for run, (outlet, outlet_w) in zip(doc.runs, (("1", 3290.0), ("2", 3310.0), ("3", 2950.0))):
        p = run.power
        assert p.scope_class == "wall" and run.metrics["power_source"] == "outlet" and p.quality.level == 2
        assert p.primary[0].name == f"snmp:127.0.0.1:outlet{outlet}"
        assert run.throughput.rate == pytest.approx(110e12, rel=0.01)
        ths = run.throughput.rate / 1e12  # type: ignore[operator]
        j_per_th = 1e12 / run.efficiency.per_joule  # type: ignore[operator]
        assert abs(j_per_th - outlet_w / ths) <= (0.03 * outlet_w + 1.0) / ths, "within the outlet's stated accuracy"
    agree = [c.agree for r in doc.runs for c in r.power.crosschecks]
    assert agree == [True, False], "the firmware's 2500 W against the outlet's 2950 W is flagged"
    assert "DISAGREE" in stdout and "2950" in stdout and validate_file(out).findings == []
    assert "miners-pdu" not in json.dumps(doc.to_json()) and "miners-pdu" not in stdout + err


@needs_agent
@pytest.mark.parametrize("row, env, message", [
    ("127.0.0.124,PDU,1,timeout=0.3", "wr0ng-s3cret", "no PDU could be read: outlet meter: snmp 127.0.0.1"),
    ("127.0.0.124,PDU,1,mib=cyberpower", "miners-pdu", "option mib='cyberpower': expected one of auto, apc"),
    ("127.0.0.124,PDU,9", "miners-pdu", "outlet 9 has no power reading (4 metered outlets"),
])
def test_wrong_credentials_or_a_wrong_map_is_one_line_exit_2(agent: object, tmp_path: Path, row: str, env: str,
                                                             message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNMP_COMMUNITY", env)
    outlets = write_map(tmp_path, agent.port, row)  # type: ignore[attr-defined]
    with SimFleet([SimMiner("127.0.0.124", difficulty=64)]):
        code, out, err = cli("miners", "run", "127.0.0.124", *RUN, "--outlets", str(outlets),
                             "--out", str(tmp_path / "m.json"))
    assert code == 2 and message in err and err.count("\n") == 1 and "s3cret" not in err + out, err
    assert not (tmp_path / "m.json").exists()


@needs_agent
def test_one_miner_with_its_wall_meter_named(agent: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNMP_COMMUNITY", "miners-pdu")
    out = tmp_path / "m.json"
    with SimFleet([SimMiner("127.0.0.125", difficulty=64)]):
        code, _, err = cli("miners", "run", "127.0.0.125", *RUN, "--out", str(out),
                           "--meter", f"snmp:127.0.0.1:{agent.port},outlet=1,period=0.2")  # type: ignore[attr-defined]
    (run,) = load(out).runs
    assert code == 0 and run.power.scope_class == "wall" and run.power.primary[0].name == "snmp:127.0.0.1:outlet1", err
    assert 1e12 / run.efficiency.per_joule == pytest.approx(3290 / 110, rel=0.03)  # type: ignore[operator]
