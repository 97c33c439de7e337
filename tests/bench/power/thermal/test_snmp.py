"""A rack PDU's environmental probe over SNMP, against a real agent (snmpsim) whose readings the test changes
with SNMP SETs (the ``writecache`` variation) while the source polls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest

if find_spec("snmpsim") is None or find_spec("pysnmp") is None:
    pytest.skip("snmpsim or pysnmp is not installed (pip install -e '.[test]')", allow_module_level=True)

from bench.errors import UsageError  # noqa: E402
from bench.power.thermal.sampler import ThermalSampler  # noqa: E402
from bench.power.thermal.snmp import SnmpProbe  # noqa: E402
from bench.power.thermal.spec import open_thermal  # noqa: E402
from bench.power.window.thermal import Info, channel  # noqa: E402
from tests.bench.power.meters.snmpagent import Agent  # noqa: E402

APC_TEMP, APC_RH = "1.3.6.1.4.1.318.1.1.26.10.2.2.1.8.1", "1.3.6.1.4.1.318.1.1.26.10.2.2.1.10.1"


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    a = Agent(tmp_path_factory.mktemp("snmpsim"))
    yield a
    a.stop()


def set_value(agent: Agent, community: str, oid: str, value: int) -> None:
    """An SNMP SET of an Integer32, as an operator's tool would send it."""
    from pysnmp.hlapi.v3arch import asyncio as hl  # type: ignore[import-untyped]
    from pysnmp.proto.rfc1902 import Integer32  # type: ignore[import-untyped]

    async def go() -> None:
        target = await hl.UdpTransportTarget.create(("127.0.0.1", agent.port), timeout=5, retries=2)
        error, status, _, _ = await hl.set_cmd(hl.SnmpEngine(), hl.CommunityData(community), target, hl.ContextData(),
                                               hl.ObjectType(hl.ObjectIdentity(oid), Integer32(value)))
        assert not error and not status, (error, status)

    asyncio.run(go())


def probe(agent: Agent, community: str, *options: str) -> SnmpProbe:
    (source,) = open_thermal([",".join([f"snmp:{agent.arg(community)}", *options])]).sources
    assert isinstance(source, SnmpProbe)
    return source


def test_apc_rpdu2_probe_temperature_and_humidity_change_as_set(agent: Agent) -> None:
    source = probe(agent, "apc-env")
    device = f"pdu:127.0.0.1:{agent.port}"
    ambient, humidity = source.channels  # the sensor not installed is left out
    assert (ambient.name, ambient.role, ambient.unit) == (f"{device}.ambient_c", "ambient", "°C")
    assert ambient.thresholds == {"max": 40.0, "high": 35.0}
    assert "rPDU2SensorTempHumidityStatusTempC.1 ('Rack 7 front')" in ambient.sensor
    assert (humidity.name, humidity.role, humidity.unit) == (f"{device}.humidity_rh", "humidity", "%RH")
    assert source.read() == {ambient.name: pytest.approx(23.5), humidity.name: 48.0}
    set_value(agent, "apc-env", APC_TEMP, 318)
    set_value(agent, "apc-env", APC_RH, 77)
    assert source.read() == {ambient.name: pytest.approx(31.8), humidity.name: 77.0}
    set_value(agent, "apc-env", APC_TEMP, 235)
    set_value(agent, "apc-env", APC_RH, 48)


def test_per_window_room_air_equals_what_the_pdu_served(agent: Agent) -> None:
    source = probe(agent, "apc-env", "role=inlet", "period=1000")
    assert source.channels[0].key == "inlet_c" and source.channels[0].role == "inlet"
    sampler = ThermalSampler([source])
    served = [[240, 244], [301, 305, 309]]
    bounds = []
    for tenths in served:
        start = None
        for v in tenths:
            set_value(agent, "apc-env", APC_TEMP, v)
            sampler.poll(source.name)
            start = start if start is not None else sampler.logs[source.name].readings[-1][0]
        bounds.append((start, sampler.logs[source.name].readings[-1][0] + 1e-6))
    c = source.channels[0]
    inlet = channel(Info.of(source, c), sampler.snapshot()[source.name].points(c.name), bounds, bounds[0][0])
    for window, tenths in zip(inlet.windows, served):
        assert window is not None and window.readings == len(tenths)
        assert window.mean == pytest.approx(sum(tenths) / len(tenths) / 10)
        assert (window.min, window.max) == (pytest.approx(min(tenths) / 10), pytest.approx(max(tenths) / 10))
    assert (inlet.source, inlet.role, inlet.unit) == ("snmp", "inlet", "°C")
    set_value(agent, "apc-env", APC_TEMP, 235)


def test_apc_universal_io_sensors_where_the_pdu_has_no_rpdu2_probe(agent: Agent) -> None:
    source = probe(agent, "apc-uio")
    assert [c.key for c in source.channels] == ["ambient_c", "ambient2_c", "humidity_rh"]
    assert "uioSensorStatusTemperatureDegC.2.1 ('Rack')" in source.channels[1].sensor
    got = source.read()
    assert [got[c.name] for c in source.channels] == [27.0, 22.0, 49.0]


def test_raritan_external_sensors_scaled_by_their_digits_and_fahrenheit_converted(agent: Agent) -> None:
    source = probe(agent, "raritan-env", "mib=raritan")
    assert [c.key for c in source.channels] == ["ambient_c", "humidity_rh", "ambient2_c"]  # the door contact left out
    cold, rh, hot = source.channels
    assert cold.thresholds == {"upper_critical": pytest.approx(35.0)}
    assert hot.thresholds == {"upper_critical": pytest.approx(45.0)} and "('Hot aisle')" in hot.sensor
    got = source.read()
    assert got[cold.name] == pytest.approx(24.1) and got[rh.name] == 52.0 and got[hot.name] == pytest.approx(35.0)


def test_servertech_sensors_not_found_are_left_out(agent: Agent) -> None:
    source = probe(agent, "servertech-env")
    temp, rh = source.channels
    assert (temp.key, rh.key) == ("ambient_c", "humidity_rh")
    assert temp.thresholds == {"high_alarm": 40.0} and "st4TempSensorValue.1.1 ('Temp_Sensor_A1')" in temp.sensor
    assert source.read() == {temp.name: pytest.approx(22.5), rh.name: 45.0}


def test_a_pdu_without_a_probe_this_reads_is_one_usage_line(agent: Agent) -> None:
    with pytest.raises(UsageError, match=r"^--thermal snmp:127\.0\.0\.1:\d+,community=\*\*\*: .*no environmental probe "
                                         r"table .* eaton"):
        open_thermal([f"snmp:{agent.arg('eaton-epdu')}"])
    with pytest.raises(UsageError, match="lists no temperature or humidity probe"):
        open_thermal([f"snmp:{agent.arg('apc-ap8641')}"])
    with pytest.raises(UsageError, match="option role='outside': expected one of ambient, inlet"):
        open_thermal([f"snmp:{agent.arg('apc-env')},role=outside"])


def test_the_data_files_are_where_the_agent_serves_them() -> None:
    assert (Path(__file__).parents[1] / "meters" / "data" / "snmp" / "apc-env.snmprec").exists()
