"""RAPL energy counters from ``/sys/class/powercap``.

Package and DRAM domains of ``intel-rapl`` (Intel, and AMD with the same
driver) and ``amd-rapl``. ``energy_uj`` wraps at ``max_energy_range_uj``; the
meter unwraps it, which is exact while it is read more often than the wrap
time (range / the domain's maximum power): the meter states that as
``max_poll_period_s`` and the sampler polls fast enough. A counter that goes
backwards by less than a wrap, or advances more than the domain could draw
(:data:`JUMP_FACTOR` x its maximum power over the interval), is a
:class:`~bench.power.meter.CounterDiscontinuity`: recorded as a gap with the
reason, never folded into the energy. Domains that appear twice (the same
package under ``intel-rapl`` and ``amd-rapl``, or once per die) are measured
once. The root can be moved with ``SITEBENCH_POWERCAP_ROOT``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.meter import CounterDiscontinuity, Meter, Reading
from bench.power.spec import MeterSpec

DEFAULT_ROOT = "/sys/class/powercap"
ZONE_GLOBS = ("intel-rapl:*", "amd-rapl:*")
PERMISSION_FIX = (
    "energy_uj is readable by root only since the 2020 Platypus fix (CVE-2020-8694): run as root, or "
    "grant read access to a group with a udev rule such as "
    "SUBSYSTEM==\"powercap\", ACTION==\"add\", RUN+=\"/bin/chgrp power /sys%p/energy_uj\", "
    "RUN+=\"/bin/chmod g+r /sys%p/energy_uj\" (then add the user to group 'power')"
)
#: Advancing faster than this many times the domain's maximum power is impossible.
JUMP_FACTOR = 4.0
#: Maximum power assumed when the zone states none (W).
FALLBACK_MAX_W = {"package": 1000.0, "dram": 300.0}
#: The sampler is asked to poll at least this many times per wrap.
POLLS_PER_WRAP = 4


def powercap_root() -> Path:
    """The powercap root, ``SITEBENCH_POWERCAP_ROOT`` or ``/sys/class/powercap``."""
    return Path(os.environ.get("SITEBENCH_POWERCAP_ROOT", DEFAULT_ROOT))


def _read_int(path: Path) -> int:
    return int(path.read_text().strip())


def _scope_for(zone_name: str, package_index: int) -> str | None:
    if zone_name.startswith("package-"):
        return f"cpu-package:{zone_name.split('-', 1)[1]}"
    if zone_name == "dram":
        return f"dram:{package_index}"
    return None


def _max_power_w(zone: Path, kind: str) -> tuple[float, str]:
    """The domain's maximum power and where it came from."""
    for name, what in (("constraint_0_max_power_uw", "max power"), ("constraint_0_power_limit_uw", "power limit")):
        try:
            uw = _read_int(zone / name)
        except (OSError, ValueError):
            continue
        if uw > 0:
            # the long-term limit is a TDP; short bursts run to about 1.25x it (PL2)
            return (uw / 1e6) * (1.0 if what == "max power" else 1.25), f"{name}"
    return FALLBACK_MAX_W[kind], "assumed"


class RaplMeter(Meter):
    """One RAPL domain's cumulative energy counter, unwrapped."""

    kind = "rapl"

    def __init__(self, zone: Path, scope: str) -> None:
        kind = "dram" if scope.startswith("dram:") else "package"
        self.max_power_w, source = _max_power_w(zone, kind)
        self.max_range_uj = _read_int(zone / "max_energy_range_uj")
        wrap_s = self.max_range_uj / 1e6 / self.max_power_w
        super().__init__(
            f"rapl:{scope}",
            scope,
            accuracy=0.05,
            accuracy_note="RAPL model-based counter; within about 5% of external meters on recent parts. "
            f"Wraps every {wrap_s:.3g} s or more at {self.max_power_w:g} W ({source})",
            update_period_s=0.001,
            method="counter",
        )
        self.max_poll_period_s = wrap_s / POLLS_PER_WRAP
        self.zone = zone
        self.wraps = 0
        self._last_raw = self._read_raw()
        self._last_t = time.monotonic()
        self._total_uj = 0

    def _read_raw(self) -> int:
        path = self.zone / "energy_uj"
        try:
            return _read_int(path)
        except PermissionError as exc:
            raise MeterReadError(f"{path}: permission denied. {PERMISSION_FIX}") from exc
        except (OSError, ValueError) as exc:
            raise MeterReadError(f"{path}: {exc}") from exc

    def read(self) -> Reading:
        raw = self._read_raw()
        t = time.monotonic()
        dt = max(t - self._last_t, 1e-3)
        limit_uj = JUMP_FACTOR * self.max_power_w * dt * 1e6
        delta = raw - self._last_raw
        wrapped = delta < 0
        if wrapped:
            delta += self.max_range_uj + 1
        last = self._last_raw
        self._last_raw, self._last_t = raw, t
        if delta > limit_uj:
            what = (f"went backwards by {last - raw} uJ" if wrapped
                    else f"jumped by {delta / 1e6:.3g} J in {dt:.3g} s")
            raise CounterDiscontinuity(f"{self.zone / 'energy_uj'}: {what} (more than {JUMP_FACTOR:g} x "
                                       f"{self.max_power_w:g} W); energy across it unknown")
        self.wraps += wrapped
        self._total_uj += delta
        return Reading(t=t, energy_j=self._total_uj / 1e6)


def _zones(root: Path) -> list[Path]:
    found = {p.resolve(): p for pattern in ZONE_GLOBS for p in root.glob(pattern) if (p / "energy_uj").exists()}
    return sorted(found.values(), key=lambda p: (not p.name.startswith("intel-rapl"), p.name))


def open_spec(spec: MeterSpec) -> list[Meter]:
    """Every readable package and DRAM domain, de-duplicated by scope (``rapl`` takes no target or option).

    Raises:
        MeterUnavailable: no powercap tree, no RAPL zones, or counters unreadable.
    """
    root = powercap_root()
    if not root.is_dir():
        raise MeterUnavailable(f"{root} not present (no RAPL; set SITEBENCH_POWERCAP_ROOT if it lives elsewhere)")
    zones = _zones(root)
    if not zones:
        raise MeterUnavailable(f"no intel-rapl or amd-rapl zones under {root}")
    meters: dict[str, Meter] = {}
    for zone in zones:
        parts = zone.name.split(":")
        try:
            zone_name = (zone / "name").read_text().strip()
        except OSError:
            continue
        scope = _scope_for(zone_name, int(parts[1]))
        if scope is None or scope in meters:
            continue  # core/uncore lie inside the package; AMD repeats domains per driver and die
        try:
            meters[scope] = RaplMeter(zone, scope)
        except PermissionError:
            raise MeterUnavailable(f"{zone / 'energy_uj'}: permission denied. {PERMISSION_FIX}") from None
        except MeterReadError as exc:
            raise MeterUnavailable(str(exc)) from None
        except (OSError, ValueError) as exc:
            raise MeterUnavailable(f"{zone}: {exc}") from None
    if not meters:
        raise MeterUnavailable(f"no package or dram domains under {root}")
    return list(meters.values())
