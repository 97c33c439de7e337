"""A server's inlet, exhaust and room temperatures (and fans) from its BMC's Redfish chassis.

``--thermal redfish:https://BMC/redfish/v1/Chassis/ID[,insecure][,timeout=S][,period=S]``

Found once, when opened, newest schema first:

1. ``ThermalSubsystem`` -> ``ThermalMetrics`` (Redfish 2020.4+): ``TemperatureSummaryCelsius`` ``Intake``
   (role ``inlet``), ``Exhaust`` (``outlet``) and ``Ambient`` (``ambient``), each ``Reading``; where the
   summary lacks one, the ``TemperatureReadingsCelsius`` member with ``PhysicalContext`` ``Intake``,
   ``Exhaust`` or ``Room``. A summary's
   ``DataSourceUri`` names its Sensor, whose ``Thresholds`` ``UpperCritical`` and ``UpperFatal`` are recorded.
2. the legacy (deprecated) ``Thermal`` resource: ``Temperatures[]`` with ``PhysicalContext`` ``Intake``,
   ``Exhaust`` or ``Room`` (or, where a BMC leaves the context out, a ``Name`` saying inlet, intake,
   exhaust, outlet or ambient), ``ReadingCelsius`` and ``UpperThresholdCritical``/``UpperThresholdFatal``;
   ``Fans[]`` read in RPM.

Each poll then fetches that one resource. Requests, credentials (``REDFISH_USER``, ``REDFISH_PASSWORD``)
and TLS are the ``redfish`` power meter's (:class:`~bench.power.meters.redfish.RedfishClient`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.meters.redfish import RedfishClient
from bench.power.thermal.source import Channel, ThermalSource, admit, key
from bench.record.thermal import Role

DEFAULT_PERIOD_S = 2.0
#: Redfish PhysicalContext values and summary keys -> the channel's role
CONTEXTS: dict[str, Role] = {"Intake": "inlet", "Exhaust": "outlet", "Room": "ambient", "Ambient": "ambient"}
#: a TemperatureSummaryCelsius key -> the PhysicalContext of the TemperatureReadingsCelsius member that stands in for it
READING_CONTEXT = {"Intake": "Intake", "Exhaust": "Exhaust", "Ambient": "Room"}
#: words in a sensor's Name, where a BMC gives no PhysicalContext
NAMES: tuple[tuple[str, Role], ...] = (("inlet", "inlet"), ("intake", "inlet"), ("exhaust", "outlet"),
                                       ("outlet", "outlet"), ("ambient", "ambient"))
MAX_MEMBERS = 64


def _link(doc: dict[str, Any], name: str) -> str | None:
    ref = doc.get(name)
    return ref.get("@odata.id") if isinstance(ref, dict) and isinstance(ref.get("@odata.id"), str) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _role(member: dict[str, Any]) -> tuple[Role | None, str]:
    """A legacy ``Temperatures[]`` member's role, and how it was known."""
    context = member.get("PhysicalContext")
    if isinstance(context, str) and context in CONTEXTS:
        return CONTEXTS[context], f"PhysicalContext {context}"
    name = str(member.get("Name") or "").lower()
    for word, role in NAMES:
        if word in name:
            return role, "its Name (no PhysicalContext)"
    return None, ""


class _Namer:
    """``inlet_c``, ``inlet2_c``...: one key per role and unit, numbered from the second."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, what: str, unit: str) -> str:
        self.seen[what] = self.seen.get(what, 0) + 1
        n = self.seen[what]
        return key(what if n == 1 else f"{what}{n}", unit)


class RedfishThermal(ThermalSource):
    """A chassis' air temperatures (and legacy fans), one resource fetched per poll."""

    kind = "redfish"

    def __init__(self, url: str, *, insecure: bool = False, timeout_s: float = 5.0,
                 period_s: float = DEFAULT_PERIOD_S) -> None:
        self.client = RedfishClient(url, insecure=insecure, timeout_s=timeout_s)
        chassis = self.client.get(url)
        if "#Chassis." not in str(chassis.get("@odata.type", "")) and "ChassisType" not in chassis:
            raise MeterUnavailable(f"{url} is not a Redfish chassis (expected https://BMC/redfish/v1/Chassis/ID)")
        self.device = f"bmc:{urlsplit(url).hostname or url}"
        #: channel name -> how to find its value in the fetched resource
        self.paths: dict[str, tuple[str | int, ...]] = {}
        channels, self.resource = self._probe(chassis)
        if not channels:
            raise MeterUnavailable(
                f"{url}: no inlet, exhaust or room temperature (ThermalSubsystem ThermalMetrics "
                "TemperatureSummaryCelsius, or Thermal Temperatures[] with PhysicalContext Intake, Exhaust or Room)")
        notes = ["TLS certificate NOT verified (insecure)"] if insecure else []
        super().__init__(f"redfish:{urlsplit(url).netloc.rpartition('@')[2]}", channels, period_s=period_s,
                         notes=[f"{self.device}: {n}" for n in notes])

    def _probe(self, chassis: dict[str, Any]) -> tuple[list[Channel], str]:
        subsystem = _link(chassis, "ThermalSubsystem")
        if subsystem:
            metrics = _link(self.client.get(subsystem), "ThermalMetrics")
            if metrics:
                found = self._metrics(self.client.get(metrics))
                if found:
                    return found, metrics
        legacy = _link(chassis, "Thermal")
        if legacy:
            return self._legacy(self.client.get(legacy)), legacy
        return [], ""

    def _add(self, channels: list[Channel], name: str, role: Role, unit: str, sensor: str,
             path: tuple[str | int, ...], thresholds: dict[str, float]) -> None:
        c = Channel(self.device, name, role, unit, sensor, thresholds)  # type: ignore[arg-type]
        channels.append(c)
        self.paths[c.name] = path

    def _sensor_thresholds(self, uri: Any) -> dict[str, float]:
        """``UpperCritical`` and ``UpperFatal`` of the Sensor a summary names (empty when it cannot be read)."""
        if not isinstance(uri, str):
            return {}
        try:
            found = self.client.get(uri).get("Thresholds")
        except MeterReadError:
            return {}
        out = {}
        for name, label in (("UpperCritical", "upper_critical"), ("UpperFatal", "upper_fatal")):
            entry = found.get(name) if isinstance(found, dict) else None
            value = admit(entry.get("Reading"), "°C") if isinstance(entry, dict) else None
            if value is not None:
                out[label] = value
        return out

    def _metrics(self, doc: dict[str, Any]) -> list[Channel]:
        channels: list[Channel] = []
        namer = _Namer()
        summary = doc.get("TemperatureSummaryCelsius")
        summary = summary if isinstance(summary, dict) else {}
        readings = doc.get("TemperatureReadingsCelsius")
        readings = [r for r in readings if isinstance(r, dict)][:MAX_MEMBERS] if isinstance(readings, list) else []
        for place in ("Intake", "Exhaust", "Ambient"):
            role = CONTEXTS[place]
            entry = summary.get(place)
            if isinstance(entry, dict) and admit(entry.get("Reading"), "°C") is not None:
                self._add(channels, namer(role, "°C"), role, "°C",
                          f"ThermalMetrics TemperatureSummaryCelsius.{place}", ("TemperatureSummaryCelsius", place,
                                                                                 "Reading"),
                          self._sensor_thresholds(entry.get("DataSourceUri")))
                continue
            for i, r in enumerate(readings):
                if r.get("PhysicalContext") == READING_CONTEXT[place] and admit(r.get("Reading"), "°C") is not None:
                    self._add(channels, namer(role, "°C"), role, "°C",
                              f"ThermalMetrics TemperatureReadingsCelsius[{i}] ({r.get('DeviceName') or place})",
                              ("TemperatureReadingsCelsius", i, "Reading"),
                              self._sensor_thresholds(r.get("DataSourceUri")))
        return channels

    def _legacy(self, doc: dict[str, Any]) -> list[Channel]:
        channels: list[Channel] = []
        namer = _Namer()
        temps = doc.get("Temperatures")
        for i, t in enumerate(temps[:MAX_MEMBERS] if isinstance(temps, list) else []):
            if not isinstance(t, dict):
                continue
            role, how = _role(t)
            if role is None or admit(t.get("ReadingCelsius"), "°C") is None:
                continue
            thresholds = {label: v for field, label in (("UpperThresholdCritical", "upper_critical"),
                                                        ("UpperThresholdFatal", "upper_fatal"))
                          if (v := admit(t.get(field), "°C")) is not None}
            self._add(channels, namer(role, "°C"), role, "°C",
                      f"Thermal Temperatures[{i}] {t.get('Name') or t.get('MemberId') or ''!s} (by {how})"[:2000],
                      ("Temperatures", i, "ReadingCelsius"), thresholds)
        fans = doc.get("Fans")
        for i, f in enumerate(fans[:MAX_MEMBERS] if isinstance(fans, list) else []):
            if isinstance(f, dict) and f.get("ReadingUnits") == "RPM" and admit(f.get("Reading"), "rpm") is not None:
                self._add(channels, namer("fan", "rpm"), "fan", "rpm",
                          f"Thermal Fans[{i}] {f.get('Name') or f.get('FanName') or f.get('MemberId') or ''!s}"[:2000],
                          ("Fans", i, "Reading"), {})
        return channels

    def read(self) -> dict[str, float]:
        doc = self.client.get(self.resource)
        out: dict[str, float] = {}
        for name, path in self.paths.items():
            value: Any = doc
            for step in path:
                try:
                    value = value[step]
                except (KeyError, IndexError, TypeError):
                    value = None
                    break
            number = _number(value)
            if number is not None:
                out[name] = number
        if not out:
            raise MeterReadError(f"{self.client.base_url}: {self.resource} holds none of its temperatures now")
        return out
