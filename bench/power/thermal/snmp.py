"""The room's air from a rack PDU's environmental probe over SNMP: temperature and humidity.

``--thermal snmp:HOST[:PORT][,mib=auto|apc|raritan|servertech][,role=ambient|inlet][,community=C]
[,user=U][,auth=...][,priv=...][,context=NAME][,period=S][,timeout=S]``

The probes each MIB exposes, found by walking its tables when opened (``mib=auto`` picks the vendor from
sysObjectID, as the ``snmp`` meter does):

- **APC** PowerNet-MIB ``rPDU2SensorTempHumidityStatusTable`` (1.3.6.1.4.1.318.1.1.26.10.2.2.1): sensors of
  ``Type`` temperatureOnly(1), temperatureHumidity(2) or commsLost(3); ``TempC`` (.8) in tenths of a
  degree C, ``RelativeHumidity`` (.10) in percent (-1: none), ``Name`` (.3); the configured
  ``TempMaxThreshC``/``TempHighThreshC`` (…10.2.1.1.10/.11) as thresholds ``max``/``high``. Where the PDU has
  none, the Network Management Card's universal I/O table ``uioSensorStatusTable`` (1.3.6.1.4.1.318.1.1.25.1.2.1):
  ``TemperatureDegC`` (.6) and ``Humidity`` (.7) in whole units, -1 invalid, ``SensorName`` (.3).
- **Raritan** PDU2-MIB ``externalSensorConfigurationTable`` (1.3.6.1.4.1.13742.6.3.6.3.1): sensors of
  ``externalSensorType`` temperature(10) and humidity(11), their ``Name`` (.4), ``Units`` (.16: degreeC(7),
  degreeF(14), percent(9)), ``DecimalDigits`` (.17) and ``UpperCriticalThreshold`` (.33); the value is
  ``measurementsExternalSensorValue`` (1.3.6.1.4.1.13742.6.5.5.3.1.4) x 10^-digits.
- **ServerTech** Sentry4-MIB ``st4TempSensorValue`` (1.3.6.1.4.1.1718.4.1.9.3.1.1, tenths of a degree in
  ``st4TempSensorScale`` …9.1.10.0: celsius(0) or fahrenheit(1)), ``st4TempSensorName`` (…9.2.1.3),
  ``st4TempSensorHighAlarm`` (…9.4.1.5, whole degrees); ``st4HumidSensorValue`` (…10.3.1.1, percent) and
  ``st4HumidSensorName`` (…10.2.1.3); a sensor whose status (…3.1.2) is disabled(1), purged(2) or
  notFound(7) is left out, and a reading below the MIB's -40 degree floor is none.

Temperatures become role ``ambient`` (the room's air at the rack: the probe hangs in the aisle, not in a
machine), or ``inlet`` with ``role=inlet`` for a probe mounted at the machines' intake; humidity is role
``humidity`` in %RH. Fahrenheit is converted. Credentials and transport are the ``snmp`` meter's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.meters.snmp import SnmpClient, pick_mib
from bench.power.thermal.source import Channel, ThermalSource, admit, key

DEFAULT_PERIOD_S = 5.0
MAX_SENSORS = 32
_APC, _UIO = "1.3.6.1.4.1.318.1.1.26.10.2", "1.3.6.1.4.1.318.1.1.25.1.2.1"
_RAR_CFG, _RAR_VALUE = "1.3.6.1.4.1.13742.6.3.6.3.1", "1.3.6.1.4.1.13742.6.5.5.3.1.4"
_ST4 = "1.3.6.1.4.1.1718.4.1"
RARITAN_TEMPERATURE, RARITAN_HUMIDITY = 10.0, 11.0
RARITAN_DEGREE_F = 14.0
SENTRY_SKIPPED = (1.0, 2.0, 7.0)


@dataclass(frozen=True)
class Probe:
    """One sensor column and row: its value x ``scale`` (then from Fahrenheit where ``fahrenheit``) is the reading;
    a raw value in ``invalid``, or below ``floor``, is none."""

    what: str  # "temperature" or "humidity"
    oid: str
    sensor: str
    scale: float = 1.0
    fahrenheit: bool = False
    invalid: tuple[float, ...] = ()
    floor: float | None = None
    thresholds: tuple[tuple[str, float], ...] = ()

    def value(self, raw: object) -> float | None:
        if not isinstance(raw, float) or raw in self.invalid or (self.floor is not None and raw < self.floor):
            return None
        v = raw * self.scale
        return (v - 32.0) * 5.0 / 9.0 if self.fahrenheit else v


def _name(names: dict[str, float | str | None], row: str) -> str:
    text = names.get(row)
    return f" ({str(text)[:60]!r})" if isinstance(text, str) and text else ""


def _apc(client: SnmpClient) -> list[Probe]:
    types = {r: t for r, t in client.walk(f"{_APC}.2.1.5").items() if t in (1.0, 2.0, 3.0)}
    if types:
        rows = sorted(types)[:MAX_SENSORS]
        names = client.walk(f"{_APC}.2.1.3")
        limits = client.get([f"{_APC}.1.1.{c}.{r}" for r in rows for c in (10, 11)])
        out = []
        for r in rows:
            found = ((label, limits.get(f"{_APC}.1.1.{c}.{r}")) for label, c in (("max", 10), ("high", 11)))
            held = tuple((label, v) for label, v in found if isinstance(v, float) and v > 0)
            out.append(Probe("temperature", f"{_APC}.2.1.8.{r}", f"APC PowerNet-MIB rPDU2SensorTempHumidityStatusTempC.{r}"
                             f"{_name(names, r)}", 0.1, thresholds=held))
            if types[r] == 2.0:
                out.append(Probe("humidity", f"{_APC}.2.1.10.{r}", f"APC PowerNet-MIB rPDU2SensorTempHumidity"
                                 f"StatusRelativeHumidity.{r}{_name(names, r)}", invalid=(-1.0,)))
        return out
    temps = {r: v for r, v in client.walk(f"{_UIO}.6").items() if v is not None and v != -1.0}
    rows = sorted(temps)[:MAX_SENSORS]
    names = client.walk(f"{_UIO}.3") if rows else {}
    humid = client.walk(f"{_UIO}.7") if rows else {}
    out = []
    for r in rows:
        out.append(Probe("temperature", f"{_UIO}.6.{r}", f"APC PowerNet-MIB uioSensorStatusTemperatureDegC.{r}"
                         f"{_name(names, r)}", invalid=(-1.0,)))
        if humid.get(r) not in (None, -1.0):
            out.append(Probe("humidity", f"{_UIO}.7.{r}", f"APC PowerNet-MIB uioSensorStatusHumidity.{r}"
                             f"{_name(names, r)}", invalid=(-1.0,)))
    return out


def _raritan(client: SnmpClient) -> list[Probe]:
    kinds = {r: t for r, t in client.walk(f"{_RAR_CFG}.2").items() if t in (RARITAN_TEMPERATURE, RARITAN_HUMIDITY)}
    rows = sorted(kinds)[:MAX_SENSORS]
    if not rows:
        return []
    got = client.get([f"{_RAR_CFG}.{c}.{r}" for r in rows for c in (4, 16, 17, 33)])
    out = []
    for r in rows:
        digits = got.get(f"{_RAR_CFG}.17.{r}")
        scale = 10.0 ** -digits if isinstance(digits, float) else 1.0
        f = got.get(f"{_RAR_CFG}.16.{r}") == RARITAN_DEGREE_F
        temp = kinds[r] == RARITAN_TEMPERATURE
        name = got.get(f"{_RAR_CFG}.4.{r}")
        upper = got.get(f"{_RAR_CFG}.33.{r}")
        limit = upper * scale if isinstance(upper, float) else None
        if limit is not None and f:
            limit = (limit - 32.0) * 5.0 / 9.0
        label = f" ({str(name)[:60]!r})" if isinstance(name, str) and name else ""
        out.append(Probe("temperature" if temp else "humidity", f"{_RAR_VALUE}.{r}",
                         f"Raritan PDU2-MIB measurementsExternalSensorValue.{r}{label}", scale, fahrenheit=f and temp,
                         thresholds=(("upper_critical", limit),) if limit is not None and temp else ()))
    return out


def _servertech(client: SnmpClient) -> list[Probe]:
    out = []
    scale_oid = f"{_ST4}.9.1.10.0"
    fahrenheit = client.get([scale_oid]).get(scale_oid) == 1.0
    for what, table, tenths in (("temperature", 9, True), ("humidity", 10, False)):
        status = client.walk(f"{_ST4}.{table}.3.1.2")
        rows = sorted(r for r, v in client.walk(f"{_ST4}.{table}.3.1.1").items()
                      if v is not None and status.get(r) not in SENTRY_SKIPPED)[:MAX_SENSORS]
        if not rows:
            continue
        names = client.walk(f"{_ST4}.{table}.2.1.3")
        alarms = client.walk(f"{_ST4}.9.4.1.5") if tenths else {}
        for r in rows:
            column = "st4TempSensorValue" if tenths else "st4HumidSensorValue"
            alarm = alarms.get(r)
            limit = None
            if isinstance(alarm, float):
                limit = (alarm - 32.0) * 5.0 / 9.0 if fahrenheit else alarm
            out.append(Probe(what, f"{_ST4}.{table}.3.1.1.{r}", f"ServerTech Sentry4-MIB {column}.{r}{_name(names, r)}",
                             0.1 if tenths else 1.0, fahrenheit=fahrenheit and tenths,
                             floor=-400.0 if tenths else 0.0,
                             thresholds=(("high_alarm", limit),) if limit is not None else ()))
    return out


FINDERS: dict[str, Callable[[SnmpClient], list[Probe]]] = {"apc": _apc, "raritan": _raritan, "servertech": _servertech}


class SnmpProbe(ThermalSource):
    """A PDU's temperature and humidity probes, every value fetched in one GET per poll."""

    kind = "snmp"

    def __init__(self, host: str, port: int, options: dict[str, str], *, mib: str = "auto", role: str = "ambient",
                 period_s: float = DEFAULT_PERIOD_S, timeout_s: float = 2.0) -> None:
        self.client = SnmpClient(host, port, options, timeout_s)
        name, _ = pick_mib(self.client, mib)
        finder = FINDERS.get(name)
        if finder is None:
            raise MeterUnavailable(f"snmp {self.client.where}: no environmental probe table sitebench reads in the "
                                   f"{name} MIB (apc, raritan, servertech)")
        probes = finder(self.client)
        if not probes:
            raise MeterUnavailable(f"snmp {self.client.where}: the {name} PDU lists no temperature or humidity probe")
        self.device = f"pdu:{host}" + ("" if port == 161 else f":{port}")
        self.probes: dict[str, Probe] = {}
        channels: list[Channel] = []
        counts: dict[str, int] = {}
        for p in probes:
            temp = p.what == "temperature"
            what, unit = (role, "°C") if temp else ("humidity", "%RH")
            counts[what] = counts.get(what, 0) + 1
            c = Channel(self.device, key(what if counts[what] == 1 else f"{what}{counts[what]}", unit),
                        role if temp else "humidity", unit, p.sensor, dict(p.thresholds))  # type: ignore[arg-type]
            channels.append(c)
            self.probes[c.name] = p
        super().__init__(f"snmp:{host}:{port}", channels, period_s=period_s)

    def read(self) -> dict[str, float]:
        got = self.client.get([p.oid for p in self.probes.values()])
        out = {}
        for name, p in self.probes.items():
            v = p.value(got.get(p.oid))
            unit = "°C" if p.what == "temperature" else "%RH"
            if v is not None and admit(v, unit) is not None:
                out[name] = v
        if not out:
            raise MeterReadError(f"snmp {self.client.where}: no probe gave a reading "
                                 f"({', '.join(str(got.get(p.oid)) for p in list(self.probes.values())[:4])})")
        return out
