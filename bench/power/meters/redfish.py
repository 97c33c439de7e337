"""Whole-node power from a BMC's Redfish service.

``--meter redfish:https://BMC/redfish/v1/Chassis/ID[,insecure][,timeout=S]``

Requests go through :class:`bench.power.http.HttpClient` (a byte limit, a per-read timeout
and ``timeout=S`` for the whole answer, TLS verified unless ``insecure``).

The chassis' power figure is found once, at probe, in this order:

1. ``EnvironmentMetrics`` ``PowerWatts.Reading`` (Redfish 2021+; the chassis total);
2. a sensor of the chassis ``Sensors`` collection with ``ReadingType`` ``Power``
   and ``PhysicalContext`` ``Chassis`` (its ``SensingInterval`` becomes the
   update period, its ``Accuracy`` percent the accuracy when given);
3. the legacy (deprecated) ``Power`` resource, ``PowerControl[0].PowerConsumedWatts``.

During the run only that one resource is fetched, once per update period, in a
background thread (see :mod:`bench.power.meters.heldpower`).

Credentials come from ``REDFISH_USER`` and ``REDFISH_PASSWORD`` (HTTP basic
auth); without them no Authorization header is sent. TLS certificates are
verified against the system trust store (``SSL_CERT_FILE`` points it at a BMC's
CA); the ``insecure`` option turns verification off for self-signed BMC
certificates, and the meter's accuracy note records that it did.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.http import HttpClient, HttpError
from bench.power.meter import Meter, NoReading
from bench.power.meters.heldpower import HeldPowerMeter
from bench.power.spec import MeterSpec

USER_ENV = "REDFISH_USER"
PASSWORD_ENV = "REDFISH_PASSWORD"
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_PERIOD_S = 1.0
MAX_SENSORS = 64  # sensors fetched at probe looking for the chassis power sensor
MAX_BYTES = 1 << 20  # a Redfish resource is a few kB

_DURATION = re.compile(r"^P(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


class RedfishClient:
    """GETs JSON resources from one Redfish service; every failure is one line."""

    def __init__(self, base_url: str, *, insecure: bool, timeout_s: float) -> None:
        self.base_url = base_url
        self.insecure = insecure
        self.timeout_s = timeout_s
        secret: dict[str, str] = {}
        user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
        if user is not None or password is not None:
            token = base64.b64encode(f"{user or ''}:{password or ''}".encode()).decode()
            secret["Authorization"] = f"Basic {token}"
        self.http = HttpClient(timeout_s=timeout_s, max_bytes=MAX_BYTES, insecure=insecure,
                               headers={"Accept": "application/json", "OData-Version": "4.0"},
                               secret_headers=secret, meter="redfish", peer="BMC")

    def get(self, path_or_url: str) -> dict[str, Any]:
        """The JSON object at ``path_or_url`` (relative to the chassis URL).

        Raises:
            MeterReadError: unreachable, refused, unauthorised, not found, TLS failure, too large, not JSON.
        """
        url = urljoin(self.base_url, path_or_url)
        try:
            body = self.http.get(url).body
        except HttpError as exc:
            raise MeterReadError(self._http_error(url, exc.status) if exc.status else str(exc)) from None
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise MeterReadError(f"{url}: the answer is not JSON (malformed Redfish response)") from None
        if not isinstance(doc, dict):
            raise MeterReadError(f"{url}: the answer is not a JSON object (malformed Redfish response)")
        return doc

    def _http_error(self, url: str, code: int) -> str:
        if code in (401, 403):
            given = USER_ENV in os.environ or PASSWORD_ENV in os.environ
            hint = (f"the BMC refused {USER_ENV}/{PASSWORD_ENV}" if given
                    else f"set {USER_ENV} and {PASSWORD_ENV}")
            return f"{url}: unauthorised (HTTP {code}): {hint} (an account with read access)"
        if code == 404:
            return (f"{url}: not found (HTTP 404): not a Redfish chassis URL "
                    "(expected https://BMC/redfish/v1/Chassis/ID)")
        return f"{url}: HTTP {code}"


@dataclass(frozen=True)
class PowerSource:
    """Where a chassis reports its power: one resource and the path to the watts in it."""

    resource: str
    path: tuple[str | int, ...]
    label: str
    period_s: float | None = None
    accuracy: float | None = None

    def watts(self, doc: dict[str, Any]) -> float | None:
        """The figure in ``doc`` (None when absent or null)."""
        value: Any = doc
        for key in self.path:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                return None
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def iso_duration_s(text: object) -> float | None:
    """Seconds in an ISO 8601 duration such as ``PT1S`` or ``PT0.5S`` (None when not one)."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        return None
    h, m, s = (float(g) if g else 0.0 for g in match.groups())
    seconds = h * 3600 + m * 60 + s
    return seconds if seconds > 0 else None


def _link(doc: dict[str, Any], key: str) -> str | None:
    ref = doc.get(key)
    return ref.get("@odata.id") if isinstance(ref, dict) and isinstance(ref.get("@odata.id"), str) else None


def _chassis_sensor(client: RedfishClient, sensors_url: str) -> PowerSource | None:
    members = client.get(sensors_url).get("Members")
    if not isinstance(members, list):
        return None
    ids = [m["@odata.id"] for m in members if isinstance(m, dict) and isinstance(m.get("@odata.id"), str)]
    ids.sort(key=lambda i: "power" not in i.lower() and "pwr" not in i.lower())  # likely names first
    for sensor_id in ids[:MAX_SENSORS]:
        sensor = client.get(sensor_id)
        if sensor.get("ReadingType") == "Power" and sensor.get("PhysicalContext") == "Chassis":
            accuracy = sensor.get("Accuracy")
            return PowerSource(
                sensor_id, ("Reading",), f"Sensor {sensor.get('Id', sensor_id)} (ReadingType Power, Chassis)",
                period_s=iso_duration_s(sensor.get("SensingInterval")),
                accuracy=accuracy / 100 if isinstance(accuracy, (int, float)) and accuracy > 0 else None,
            )
    return None


def find_power_source(client: RedfishClient) -> PowerSource:
    """The chassis' power figure, newest schema first.

    Raises:
        MeterReadError: the chassis cannot be read.
        MeterUnavailable: the URL is not a chassis, or it offers no power figure.
    """
    url = client.base_url
    chassis = client.get(url)
    if "#Chassis." not in str(chassis.get("@odata.type", "")) and "ChassisType" not in chassis:
        raise MeterUnavailable(f"{url} is not a Redfish chassis (expected https://BMC/redfish/v1/Chassis/ID)")
    env, sensors, power = (_link(chassis, key) for key in ("EnvironmentMetrics", "Sensors", "Power"))
    if env:
        metrics = PowerSource(env, ("PowerWatts", "Reading"), "EnvironmentMetrics PowerWatts")
        if metrics.watts(client.get(env)) is not None:
            return metrics
    if sensors:
        found = _chassis_sensor(client, sensors)
        if found:
            return found
    if power:
        legacy = PowerSource(power, ("PowerControl", 0, "PowerConsumedWatts"),
                             "Power PowerControl[0].PowerConsumedWatts")
        if legacy.watts(client.get(power)) is not None:
            return legacy
    raise MeterUnavailable(
        f"{url} offers no chassis power reading (no EnvironmentMetrics PowerWatts, no Power sensor with "
        "PhysicalContext Chassis, no Power PowerControl PowerConsumedWatts; is the host powered on?)"
    )


class RedfishMeter(HeldPowerMeter):
    """Whole-node power from one Redfish chassis resource, polled in the background."""

    kind = "redfish"

    def __init__(self, url: str, *, insecure: bool = False, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.client = RedfishClient(url, insecure=insecure, timeout_s=timeout_s)
        self.source = find_power_source(self.client)
        period = self.source.period_s or DEFAULT_PERIOD_S
        note = (f"Redfish {self.source.label} from the BMC at {urlsplit(url).netloc}: BMC power sensors are "
                f"typically within 5% or worse; update period {period:g} s"
                f"{'' if self.source.period_s else ' assumed (the BMC states none)'}")
        if insecure:
            note += "; TLS certificate NOT verified (insecure)"
        super().__init__(
            f"redfish:{urlsplit(url).netloc}",
            "node",
            accuracy=self.source.accuracy or 0.05,
            accuracy_note=note,
            update_period_s=period,
            timeout_s=timeout_s,
        )
        self.prime()

    def fetch(self) -> float:
        watts = self.source.watts(self.client.get(self.source.resource))
        if watts is None:
            raise MeterReadError(f"{self.client.base_url}: {self.source.label} is missing or null")
        return watts


def open_spec(spec: MeterSpec) -> list[Meter]:
    """The chassis the target names (``redfish:URL[,insecure][,timeout=S]``).

    Raises:
        MeterUnavailable: the URL is not a chassis or offers no power figure; :class:`NoReading` when the BMC
            cannot be read (unreachable, unauthorised, TLS, malformed); one line.
    """
    url = spec.target or ""
    try:
        return [RedfishMeter(url, insecure=spec["insecure"] is True, timeout_s=spec.number("timeout"))]
    except MeterReadError as exc:
        raise NoReading(str(exc)) from None
