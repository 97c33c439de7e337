"""RAPL energy counters from ``/sys/class/powercap``.

Package and DRAM domains of ``intel-rapl`` (Intel and, with the same driver,
AMD). ``energy_uj`` wraps at ``max_energy_range_uj``; the meter unwraps it,
which is exact as long as the sampler polls faster than the wrap time. The
root directory can be moved with ``SITEBENCH_POWERCAP_ROOT`` for tests and odd
systems.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.meter import Meter, Reading

DEFAULT_ROOT = "/sys/class/powercap"
PERMISSION_FIX = (
    "energy_uj is readable by root only since the 2020 Platypus fix: run as root, or grant read "
    "access with a udev rule, e.g. "
    "ACTION==\"add\", SUBSYSTEM==\"powercap\", RUN+=\"/bin/chmod o+r /sys%p/energy_uj\""
)


def powercap_root() -> Path:
    """The powercap root, ``SITEBENCH_POWERCAP_ROOT`` or ``/sys/class/powercap``."""
    return Path(os.environ.get("SITEBENCH_POWERCAP_ROOT", DEFAULT_ROOT))


def _scope_for(zone_name: str, package_index: int) -> str | None:
    if zone_name.startswith("package-"):
        return f"cpu-package:{zone_name.split('-', 1)[1]}"
    if zone_name == "dram":
        return f"dram:{package_index}"
    return None


class RaplMeter(Meter):
    """One RAPL domain's cumulative energy counter, unwrapped."""

    kind = "rapl"

    def __init__(self, zone: Path, scope: str) -> None:
        super().__init__(
            f"rapl:{scope}",
            scope,
            accuracy=0.05,
            accuracy_note="RAPL model-based counter; within about 5% of external meters on recent parts",
            update_period_s=0.001,
            method="counter",
        )
        self.zone = zone
        self.max_range_uj = int((zone / "max_energy_range_uj").read_text())
        self._last_raw = self._read_raw()
        self._total_uj = 0

    def _read_raw(self) -> int:
        try:
            return int((self.zone / "energy_uj").read_text())
        except PermissionError as exc:
            raise MeterReadError(f"{self.zone / 'energy_uj'}: permission denied. {PERMISSION_FIX}") from exc
        except (OSError, ValueError) as exc:
            raise MeterReadError(f"{self.zone / 'energy_uj'}: {exc}") from exc

    def read(self) -> Reading:
        raw = self._read_raw()
        delta = raw - self._last_raw
        if delta < 0:
            delta += self.max_range_uj + 1
        self._last_raw = raw
        self._total_uj += delta
        return Reading(t=time.monotonic(), energy_j=self._total_uj / 1e6)


def probe() -> list[Meter]:
    """Every readable package and DRAM domain, de-duplicated by scope.

    Raises:
        MeterUnavailable: no powercap tree, no RAPL zones, or counters unreadable.
    """
    root = powercap_root()
    if not root.is_dir():
        raise MeterUnavailable(f"{root} not present")
    zones = sorted(p for p in root.glob("intel-rapl:*") if (p / "energy_uj").exists())
    if not zones:
        raise MeterUnavailable(f"no intel-rapl zones under {root}")
    meters: dict[str, Meter] = {}
    for zone in zones:
        parts = zone.name.split(":")
        try:
            zone_name = (zone / "name").read_text().strip()
        except OSError:
            continue
        scope = _scope_for(zone_name, int(parts[1]))
        if scope is None or scope in meters:
            continue  # other domains (core, uncore) lie inside the package; AMD repeats domains
        try:
            meters[scope] = RaplMeter(zone, scope)
        except PermissionError:
            raise MeterUnavailable(f"{zone / 'energy_uj'}: permission denied. {PERMISSION_FIX}") from None
        except MeterReadError as exc:
            raise MeterUnavailable(str(exc)) from None
    if not meters:
        raise MeterUnavailable(f"no package or dram domains under {root}")
    return list(meters.values())
