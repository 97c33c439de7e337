"""A server's inlet, exhaust and ambient temperatures from its BMC's sensor records, through ``ipmitool``.

``--thermal ipmi`` asks the local BMC, ``--thermal ipmi:[USER@]HOST`` a remote one (``-I lanplus``, the
password from ``IPMI_PASSWORD`` through ``-E``), as the ``ipmi`` power meter does. Each poll runs
``ipmitool sdr type Temperature``, whose lines read::

    Inlet Temp       | 04h | ok  |  7.1 | 23 degrees C

A sensor is kept by its name: ``inlet`` or ``intake`` is role ``inlet`` (``Inlet Temp``, ``BB Inlet Temp``,
``01-Inlet Ambient``), ``ambient`` alone is ``ambient`` (``Ambient Temp``), ``exhaust``, ``outlet`` or
``exit air`` is ``outlet``; CPU, DIMM and board sensors are left out (hwmon and NVML read those from
the devices themselves). When opened, ``ipmitool sdr get NAME`` gives each kept sensor's ``Upper
critical`` and ``Upper non-recoverable`` thresholds, where the BMC has them.
"""

from __future__ import annotations

import os
import re
import shutil

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.meters.ipmi import PASSWORD_ENV, USER_ENV, run_ipmitool
from bench.power.thermal.source import Channel, ThermalSource, admit, key
from bench.record.thermal import Role

DEFAULT_PERIOD_S = 5.0
DEFAULT_TIMEOUT_S = 10.0
ROLES: tuple[tuple[tuple[str, ...], Role], ...] = ((("inlet", "intake"), "inlet"), (("exhaust", "outlet", "exit air"), "outlet"),
                                                   (("ambient",), "ambient"))
_READING = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*degrees C\s*$", re.IGNORECASE)
_THRESHOLD = re.compile(r"^\s*(Upper critical|Upper non-recoverable)\s*:\s*(-?\d+(?:\.\d+)?)\s*$", re.IGNORECASE)


def role_of(name: str) -> Role | None:
    """The role a sensor's name says it has, or None (a CPU, DIMM or board sensor)."""
    low = name.lower()
    for words, role in ROLES:
        if any(w in low for w in words):
            return role
    return None


def parse_sdr(text: str) -> list[tuple[str, str, float | None]]:
    """``(name, "id | status | entity", degrees C or None)`` per line of ``sdr type Temperature``."""
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) != 5 or not cells[0]:
            continue
        match = _READING.match(cells[4])
        out.append((cells[0], " | ".join(cells[1:4]), float(match.group(1)) if match and cells[2] == "ok" else None))
    return out


def parse_thresholds(text: str) -> dict[str, float]:
    """``upper_critical`` and ``upper_non_recoverable`` from ``sdr get NAME`` (where given)."""
    out = {}
    for line in text.splitlines():
        match = _THRESHOLD.match(line)
        if match and (value := admit(float(match.group(2)), "°C")) is not None:
            out[match.group(1).lower().replace(" ", "_").replace("-", "_")] = value
    return out


def ipmitool_base(host: str | None, user: str | None) -> list[str]:
    """``ipmitool`` and its interface options for the local BMC (``host`` None) or a remote one."""
    if host is None:
        return ["ipmitool"]
    return ["ipmitool", "-I", "lanplus", "-H", host, *(["-U", user] if user else []), "-E"]


class IpmiThermal(ThermalSource):
    """The BMC's air temperature sensors, read through ``ipmitool sdr type Temperature`` each poll."""

    kind = "ipmi"

    def __init__(self, host: str | None = None, user: str | None = None, *, period_s: float = DEFAULT_PERIOD_S,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.base, self.timeout_s = ipmitool_base(host, user), timeout_s
        self.device = f"bmc:{host or 'local'}"
        #: channel name -> the sensor's name in the SDR
        self.sensors: dict[str, str] = {}
        channels: list[Channel] = []
        counts: dict[str, int] = {}
        for name, where, _ in parse_sdr(self._run("sdr", "type", "Temperature")):
            role = role_of(name)
            if role is None:
                continue
            counts[role] = counts.get(role, 0) + 1
            what = role if counts[role] == 1 else f"{role}{counts[role]}"
            try:
                thresholds = parse_thresholds(self._run("sdr", "get", name))
            except MeterReadError:
                thresholds = {}
            c = Channel(self.device, key(what, "°C"), role, "°C", f"IPMI SDR {name!r} ({where})", thresholds)
            channels.append(c)
            self.sensors[c.name] = name
        if not channels:
            raise MeterUnavailable(f"ipmi {self.device}: no inlet, exhaust or ambient sensor in 'sdr type Temperature'")
        super().__init__(f"ipmi:{host or 'local'}", channels, period_s=period_s)

    def _run(self, *args: str) -> str:
        return run_ipmitool([*self.base, *args], self.timeout_s)

    def read(self) -> dict[str, float]:
        lines = parse_sdr(self._run("sdr", "type", "Temperature"))
        found = {name: value for name, _, value in lines if value is not None}
        out = {channel: found[sensor] for channel, sensor in self.sensors.items() if sensor in found}
        if not out:
            states = {name: where for name, where, _ in lines}
            shown = "; ".join(f"{s}: {states.get(s, 'missing')}" for s in list(self.sensors.values())[:3])
            raise MeterReadError(f"ipmi {self.device}: no reading from its air sensors ({shown})")
        return out


def open_ipmi(target: str | None, period_s: float) -> IpmiThermal:
    """The local BMC (no target) or ``[USER@]HOST``.

    Raises:
        MeterUnavailable: no ipmitool, no password for a remote BMC, no air sensor; a failed first read.
    """
    host = user = None
    if target:
        user, _, host = target.rpartition("@")
        if not host:
            raise MeterUnavailable(f"expected ipmi:[USER@]HOST, got ipmi:{target}")
        user = user or os.environ.get(USER_ENV) or None
        if not os.environ.get(PASSWORD_ENV):
            raise MeterUnavailable(f"set {PASSWORD_ENV} to the BMC password (ipmitool -E reads it from there)")
    if shutil.which("ipmitool") is None:
        raise MeterUnavailable("ipmitool not found on PATH (install the ipmitool package)")
    try:
        return IpmiThermal(host, user, period_s=period_s)
    except MeterReadError as exc:
        raise MeterUnavailable(str(exc)) from None
