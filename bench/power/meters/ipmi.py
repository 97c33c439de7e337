"""Whole-node power from the BMC through ``ipmitool dcmi power reading``.

``--meter ipmi`` asks the local BMC (needs ``/dev/ipmi0``, usually root);
``--meter ipmi:HOST`` or ``--meter ipmi:USER@HOST`` asks a remote BMC with
``ipmitool -I lanplus -H HOST -U USER -E dcmi power reading``. ``-E`` makes
ipmitool read the password from the environment variable ``IPMI_PASSWORD``, so
it never shows in the process list. Without ``USER@`` the user comes from
``IPMI_USER`` when set, otherwise ipmitool's default (the null user).

Accuracy: BMC power sensors sit in the PSUs or on the board; they are typically
within 5% and often worse, and the BMC averages the reading over its DCMI
sampling period, which becomes the meter's update period (1 s when the BMC
reports none).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.meter import Meter, NoReading
from bench.power.meters.heldpower import HeldPowerMeter
from bench.power.spec import MeterSpec

PASSWORD_ENV = "IPMI_PASSWORD"
USER_ENV = "IPMI_USER"
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_PERIOD_S = 1.0

_INSTANT = re.compile(r"Instantaneous power reading\s*:\s*(\d+(?:\.\d+)?)\s*Watts", re.IGNORECASE)
_PERIOD = re.compile(r"Sampling period\s*:\s*(\d+)\s*(Seconds|Milliseconds)", re.IGNORECASE)
_STATE = re.compile(r"Power reading state is\s*:\s*(\w+)", re.IGNORECASE)


def parse_dcmi(text: str) -> tuple[float, float | None]:
    """Watts and sampling period (s, None when 0 or absent) from ``dcmi power reading`` output.

    Raises:
        ValueError: the state is not ``activated`` or there is no instantaneous reading.
    """
    state = _STATE.search(text)
    if state and state.group(1).lower() != "activated":
        raise ValueError(f"the BMC reports power reading state {state.group(1)!r}: "
                         "its DCMI power readings are not valid")
    instant = _INSTANT.search(text)
    if not instant:
        raise ValueError("no 'Instantaneous power reading' in the ipmitool output (BMC without DCMI power readings?)")
    period_s = None
    period = _PERIOD.search(text)
    if period and int(period.group(1)) > 0:
        period_s = int(period.group(1)) / (1000.0 if period.group(2).lower() == "milliseconds" else 1.0)
    return float(instant.group(1)), period_s


def ipmitool_command(host: str | None, user: str | None) -> list[str]:
    """The ipmitool command line for the local BMC (``host`` None) or a remote one."""
    if host is None:
        return ["ipmitool", "dcmi", "power", "reading"]
    cmd = ["ipmitool", "-I", "lanplus", "-H", host]
    if user:
        cmd += ["-U", user]
    return cmd + ["-E", "dcmi", "power", "reading"]


def run_ipmitool(cmd: list[str], timeout_s: float) -> str:
    """Run ipmitool and return its stdout.

    Raises:
        MeterReadError: ipmitool missing, timed out or exited non-zero; one line.
    """
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    except FileNotFoundError:
        raise MeterReadError("ipmitool not found on PATH (install the ipmitool package)") from None
    except OSError as exc:
        raise MeterReadError(f"cannot run ipmitool: {exc}") from None
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: a wrapper script's children too
        proc.communicate()
        raise MeterReadError(f"'{' '.join(cmd)}' gave no answer within {timeout_s:g} s") from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (err or out).splitlines() if ln.strip()]
        detail = lines[0] if lines else "no message"
        raise MeterReadError(f"'{' '.join(cmd)}' exited {proc.returncode}: {detail}")
    return out


class IpmiMeter(HeldPowerMeter):
    """Whole-node power from the BMC's DCMI power reading, polled through ipmitool."""

    kind = "ipmi"

    def __init__(self, host: str | None = None, user: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.cmd = ipmitool_command(host, user)
        watts, period_s = self._ask(timeout_s)
        period = period_s or DEFAULT_PERIOD_S
        where = f"BMC at {host}" if host else "local BMC"
        super().__init__(
            f"ipmi:{host or 'local'}",
            "node",
            accuracy=0.05,
            accuracy_note=f"DCMI power reading from the {where}: BMC sensors are typically within 5% or worse; "
            f"averaged by the BMC over its sampling period ({period:g} s"
            f"{'' if period_s else ', none reported'})",
            update_period_s=period,
            timeout_s=timeout_s,
        )
        self.poller.put(watts)

    def _ask(self, timeout_s: float) -> tuple[float, float | None]:
        out = run_ipmitool(self.cmd, timeout_s)
        try:
            return parse_dcmi(out)
        except ValueError as exc:
            raise MeterReadError(str(exc)) from None

    def fetch(self) -> float:
        return self._ask(self.timeout_s)[0]


def open_spec(spec: MeterSpec) -> list[Meter]:
    """The local BMC (no target) or the remote one the target names (``[USER@]HOST``).

    Raises:
        MeterUnavailable: no ipmitool, no password for a remote BMC; :class:`NoReading` when the BMC
            gives no valid reading.
    """
    host = user = None
    if spec.target:
        user, _, host = spec.target.rpartition("@")
        if not host:
            raise MeterUnavailable(f"expected ipmi:[USER@]HOST, got ipmi:{spec.target}")
        user = user or os.environ.get(USER_ENV) or None
        if not os.environ.get(PASSWORD_ENV):
            raise MeterUnavailable(f"set {PASSWORD_ENV} to the BMC password (ipmitool -E reads it from there)")
    if shutil.which("ipmitool") is None:
        raise MeterUnavailable("ipmitool not found on PATH (install the ipmitool package)")
    try:
        return [IpmiMeter(host, user, timeout_s=DEFAULT_TIMEOUT_S)]
    except MeterReadError as exc:
        raise NoReading(str(exc)) from None
