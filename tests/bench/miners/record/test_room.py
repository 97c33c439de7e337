"""``miners run --thermal``: the room's air from a rack PDU's environmental probe (a real SNMP agent, snmpsim,
whose probe the test sets by SNMP SET) leads every miner's thermal block per window, and a soak's derating fit
reads it rather than a hash board's intake-side sensor; a killed miners run's journal gives it back; bad input
is one line, exit 2."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest

if find_spec("snmpsim") is None or find_spec("pysnmp") is None:
    pytest.skip("snmpsim or pysnmp is not installed (pip install -e '.[test]')", allow_module_level=True)

import bench.miners.record.recovery  # noqa: E402, F401  (registers the miners journal, as the command does)
from bench.measure.recover import recover  # noqa: E402
from bench.miners.measure.journal import MinersJournal  # noqa: E402
from bench.miners.measure.outcome import Plan  # noqa: E402
from bench.miners.protocol.model import Board, Counter, Identity, Poll  # noqa: E402
from bench.record import System, load, new_document  # noqa: E402
from bench.sizing.derate_points import document_points  # noqa: E402
from bench.testing.miners import SimFleet, SimMiner  # noqa: E402
from bench.validation import validate_file  # noqa: E402
from tests.bench.miners.helpers import cli  # noqa: E402
from tests.bench.power.meters.snmpagent import Agent  # noqa: E402

APC_TEMP, APC_RH = "1.3.6.1.4.1.318.1.1.26.10.2.2.1.8.1", "1.3.6.1.4.1.318.1.1.26.10.2.2.1.10.1"


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    a = Agent(tmp_path_factory.mktemp("snmpsim"))
    yield a
    a.stop()


def set_value(agent: Agent, oid: str, value: int) -> None:
    """An SNMP SET of an Integer32 on the APC probe, as an operator's tool would send it."""
    from pysnmp.hlapi.v3arch import asyncio as hl  # type: ignore[import-untyped]
    from pysnmp.proto.rfc1902 import Integer32  # type: ignore[import-untyped]

    async def go() -> None:
        target = await hl.UdpTransportTarget.create(("127.0.0.1", agent.port), timeout=5, retries=2)
        error, status, _, _ = await hl.set_cmd(hl.SnmpEngine(), hl.CommunityData("apc-env"), target, hl.ContextData(),
                                               hl.ObjectType(hl.ObjectIdentity(oid), Integer32(value)))
        assert not error and not status, (error, status)

    asyncio.run(go())


def test_a_miners_soak_reads_the_rooms_air_from_the_pdus_probe(tmp_path: Path, agent: Agent) -> None:
    set_value(agent, APC_TEMP, 318)
    set_value(agent, APC_RH, 77)
    path = tmp_path / "m.json"
    try:
        with SimFleet([SimMiner("127.0.0.124", difficulty=64, seed=5)]):
            code, _, err = cli("miners", "run", "127.0.0.124", "--period", "0.25", "--warmup", "5", "--window", "1",
                               "--soak", "4s", "--timeout", "1", "--thermal", f"snmp:{agent.arg('apc-env')},period=0.25",
                               "--out", str(path))
    finally:
        set_value(agent, APC_TEMP, 235)
        set_value(agent, APC_RH, 48)
    assert code == 0, err
    (run,) = load(path).runs
    th = run.thermal
    assert th is not None and run.soak is not None and run.soak.windows == 4
    device = f"pdu:127.0.0.1:{agent.port}"
    air, rh = th.channels[:2]  # the room's air first
    assert (air.name, air.source, air.role, air.unit) == (f"{device}.ambient_c", "snmp", "ambient", "°C")
    assert (rh.name, rh.role, rh.unit) == (f"{device}.humidity_rh", "humidity", "%RH")
    assert len(air.windows) == 4 and all(w is not None and w.mean == pytest.approx(31.8) for w in air.windows)
    assert all(w is not None and w.mean == 77.0 for w in rh.windows)
    assert air.thresholds == {"max": 40.0, "high": 35.0} and air.series == []
    assert th.channel("asic:127.0.0.124.board0_inlet_c") is not None  # the board's intake side is read too...
    assert th.inlet() is air  # ...but the fit reads the air
    points = document_points(load(path))
    assert len(points) == 4 and {p.channel for p in points} == {air.name}
    assert all(p.inlet_c == pytest.approx(31.8) for p in points)
    found = validate_file(path).findings
    assert [f for f in found if f.level == "error"] == [], [f.line(str(path)) for f in found]


MINER = Identity("127.0.0.9", 4028, "cgminer", "antminer", "Bitmain", "Antminer S19 Pro", "bmminer 1.0")
PLAN = Plan(period_s=0.5, warmup_s=3.0, window_s=2.0, repeats=2, span_s=1.0)


def _poll(t: float) -> Poll:
    boards = (Board(0, 114, 114, 60.0, 75.0, temp_inlet_c=45.0, temp_outlet_c=60.0),)
    return Poll(t=t, wall=1.7e9 + t, identity=MINER, elapsed_s=1000.0 + t,
                counter=Counter(hashes=110e12 * (1000.0 + t), resolution=1e9, source="Total MH"),
                accepted_difficulty=110e12 * (1000.0 + t) / 2**32, shares=int(t * 100), hw_errors=0, power_w=3250.0,
                boards=boards)


def test_a_killed_miners_run_gives_back_the_rooms_air(tmp_path: Path) -> None:
    j = MinersJournal(tmp_path / "m.json.journal.jsonl")
    j.start(new_document(System()), [], PLAN, 0.0, [(MINER, None)], {"poll_period_s": PLAN.period_s}, None)
    j.write({"type": "thermal-source", "source": "snmp:pdu-7", "kind": "snmp", "period_s": 0.5, "local": False,
             "notes": ["the probe at rack 7"], "channels": [{"device": "pdu:pdu-7", "key": "ambient_c",
                                                            "role": "ambient", "unit": "°C", "sensor": "probe 1",
                                                            "thresholds": {"high": 35.0}}]})
    for tick in range(40):
        t = tick * PLAN.period_s
        j.sample(MINER.address, tick, _poll(t))
        j.write({"type": "thermal", "source": "snmp:pdu-7", "t": t + 0.1, "values": {"pdu:pdu-7.ambient_c": 20.0 + t}})
    j.close()
    rec = recover(j.path)
    (run,) = rec.document.runs
    assert rec.clean and rec.outcomes == ["in progress"] and run.thermal is not None
    air = run.thermal.channels[0]
    assert (air.name, air.source, air.role, air.thresholds) == ("pdu:pdu-7.ambient_c", "snmp", "ambient", {"high": 35.0})
    assert run.thermal.inlet() is air and "the probe at rack 7" in run.thermal.notes
    for window, phase in zip(air.windows, run.windows):
        # the probe read 20 + t at t + 0.1 for each poll time t: its readings inside the window, averaged
        inside = [20.0 + t for t in (k * PLAN.period_s for k in range(40)) if phase.start <= t + 0.1 < phase.end]
        assert window is not None and window.mean == pytest.approx(sum(inside) / len(inside))


@pytest.mark.parametrize(("spec", "says"), [
    ("hwmon", "--thermal hwmon: hwmon reads this machine's CPU packages, not the miners' air"),
    ("pdu-7", "unknown temperature source"),
    ("snmp:127.0.0.1:9,mib=eaton", "expected one of"),
])
def test_bad_thermal_input_is_one_line_exit_2(tmp_path: Path, spec: str, says: str) -> None:
    code, _, err = cli("miners", "run", "127.0.0.125", "--thermal", spec, "--out", str(tmp_path / "m.json"))
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "m.json").exists()


def test_a_pdu_without_a_probe_is_one_line_before_any_miner_is_asked(tmp_path: Path, agent: Agent) -> None:
    code, _, err = cli("miners", "run", "127.0.0.125", "--thermal", f"snmp:{agent.arg('apc-ap8641')}",
                       "--out", str(tmp_path / "m.json"))
    assert code == 2 and "lists no temperature or humidity probe" in err and len(err.strip().splitlines()) == 1, err
