"""The snmp meter against a real SNMP agent (snmpsim, :mod:`tests.bench.power.meters.snmpagent`) serving
recorded and MIB-written PDU walks (``data/snmp/*.snmprec``, community = file name)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest

from bench.errors import MeterUnavailable, UsageError
from bench.power import discovery
from bench.power.sampler import Sampler
from tests.bench.power.fakes import CounterMeter

KWH = 3.6e6

if find_spec("snmpsim") is None or find_spec("pysnmp") is None:
    pytest.skip("snmpsim or pysnmp is not installed (pip install -e '.[test]')", allow_module_level=True)

from bench.power.discovery import open_spec  # noqa: E402 - after the skip
from bench.power.meter import Meter  # noqa: E402
from bench.power.meters.snmp import SnmpMeter  # noqa: E402
from tests.bench.power.meters.snmpagent import Agent  # noqa: E402


def probe(arg: str) -> list[Meter]:
    """The meters of ``snmp:ARG``."""
    return open_spec(f"snmp:{arg}")


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    a = Agent(tmp_path_factory.mktemp("snmpsim"))
    yield a
    a.stop()


def opened(arg: str) -> SnmpMeter:
    (meter,) = probe(arg)
    assert isinstance(meter, SnmpMeter)
    return meter


@pytest.mark.parametrize("community, outlet, watts, mib, accuracy, energy_j", [
    ("apc-ap8641", None, 121 * 10.0, "apc", 0.03, 19516 * KWH / 10),  # rPDU2DeviceStatusPower: hundredths of kW
    ("apc-ap8641", "1", 163.0, "apc", 0.03, 3046 * KWH / 10),
    ("apc-ap8641", "4", 125.0, "apc", 0.03, None),
    ("raritan-px3", None, 3512.3, "raritan", 0.01, 123456789 * 3600.0),  # 35123 with one decimal digit
    ("raritan-px3", "1", 3301.0, "raritan", 0.02, 1234567 * 3600.0),
    ("servertech-sentry4", None, 3310.0 + 1650.0, "servertech", None, (98765 + 4321) * KWH / 10),  # both cords
    ("servertech-sentry4", "1", 3290.0, "servertech", None, 5551234 * 3600.0),
    ("servertech-sentry4", "1.2.1", 1640.0, "servertech", None, 2220000 * 3600.0),
    ("eaton-epdu", None, 3420.0, "eaton", None, 7777777 * 3600.0),
    ("eaton-epdu", "1", 3305.0, "eaton", None, 4444444 * 3600.0),
])
def test_device_and_outlet_power_of_each_mib(agent: Agent, community: str, outlet: str | None, watts: float,
                                             mib: str, accuracy: float | None, energy_j: float | None) -> None:
    meter = opened(agent.arg(community, **({"outlet": outlet} if outlet else {})))
    try:
        reading = meter.read()
        assert reading.power_w == pytest.approx(watts, abs=1e-6), "exact at the agent's own resolution"
        assert meter.mib_name == mib and meter.scope == "wall" and meter.accuracy == accuracy
        assert meter.name == "snmp:127.0.0.1" + (f":outlet{outlet}" if outlet else "")
        if energy_j is not None:
            assert reading.extra["pdu_energy_j"] == pytest.approx(energy_j)
        assert ("unstated" in meter.accuracy_note) == (accuracy is None) and "1 s assumed" in meter.accuracy_note
        assert community not in json.dumps(meter.figure().to_json()), "the community never reaches provenance"
    finally:
        meter.close()


def test_apc_states_its_least_digit_and_auto_equals_the_named_mib(agent: Agent) -> None:
    device, named = opened(agent.arg("apc-ap8641")), opened(agent.arg("apc-ap8641", mib="apc", period="2"))
    try:
        assert device.accuracy_w == 10.0 and "FA156074" in device.accuracy_note
        assert named.read().power_w == device.read().power_w and named.update_period_s == 2.0
    finally:
        device.close()
        named.close()


@pytest.mark.parametrize("community, options, message", [
    ("switch", {}, "sysObjectID 1.3.6.1.4.1.9.1.1208 is not a PDU this meter knows"),
    ("apc-ap8641", {"mib": "eaton"}, "no input power in the MIB"),
    ("apc-ap8641", {"mib": "cyberpower"}, "mib='cyberpower': expected one of auto, apc, raritan, servertech, eaton"),
    ("apc-ap8641", {"outlet": "99"}, "outlet 99 has no power reading (24 metered outlets"),
    ("apc-ap8641", {"outlet": "A1"}, "outlet='A1' is not an outlet number"),
    ("apc-ap8641", {"phase": "1"}, "option 'phase' not understood"),
    ("s3cret-community", {"timeout": "0.3"}, "no answer within 0.3 s, tried twice (unreachable, or a wrong community)"),
])
def test_bad_input_is_one_line(agent: Agent, community: str, options: dict[str, str], message: str) -> None:
    with pytest.raises((MeterUnavailable, UsageError)) as info:  # the grammar's refusals are usage errors
        probe(agent.arg(community, **options))
    assert message in str(info.value) and "\n" not in str(info.value) and "s3cret" not in str(info.value)


def test_snmp_v3_takes_its_keys_from_the_environment(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    base = f"127.0.0.1:{agent.port},user=sitebench,context=eaton-epdu,timeout=0.5"
    with pytest.raises(MeterUnavailable, match="set SNMP_AUTH_KEY"):
        probe(base)
    monkeypatch.setenv("SNMP_AUTH_KEY", "auth-key-123")
    monkeypatch.setenv("SNMP_PRIV_KEY", "priv-key-123")
    meter = opened(base)
    try:
        assert meter.read().power_w == pytest.approx(3420.0, abs=1e-6), "exact at the agent's own resolution"
        assert "priv-key-123" not in json.dumps(meter.figure().to_json())
    finally:
        meter.close()
    monkeypatch.setenv("SNMP_AUTH_KEY", "wrong-key-456")
    with pytest.raises(MeterUnavailable) as info:
        probe(base)
    assert "SNMPv3 credentials refused" in str(info.value) and "wrong-key-456" not in str(info.value)


def test_the_meter_through_discovery(agent: Agent) -> None:
    meters, _ = discovery.discover([f"snmp:{agent.arg('eaton-epdu', outlet='1')}"])
    try:
        assert [m.name for m in meters] == ["snmp:127.0.0.1:outlet1"]
    finally:
        for m in meters:
            m.close()
    with pytest.raises(UsageError, match="is not a PDU this meter knows"):
        discovery.discover([f"snmp:{agent.arg('switch')}"])


def test_an_unreachable_pdu_is_a_gap_and_the_run_goes_on(tmp_path: Path) -> None:
    own = Agent(tmp_path)
    try:
        meter = opened(own.arg("apc-ap8641", outlet="1", period="0.05", timeout="1"))
        other = CounterMeter(100.0, "node")
        sampler = Sampler([meter, other], rate_hz=20)
        sampler.start()
        wait_for(lambda: len(sampler.logs[meter.name].readings) >= 3)
        own.stop()
        wait_for(lambda: bool(sampler.logs[meter.name].gaps))
        counted = len(sampler.logs[other.name].readings)
        wait_for(lambda: len(sampler.logs[other.name].readings) > counted + 3)
        sampler.stop()
        gaps = sampler.logs[meter.name].gaps
        assert gaps and ("no answer" in gaps[0].reason or "no SNMP answer" in gaps[0].reason)
    finally:
        own.stop()


def wait_for(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Until ``condition()`` holds (polled; fails the test after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
