"""A CPU package's power limit through powercap sysfs (kind ``cpu.package_limit``, W).

Each package zone (``intel-rapl:N`` whose ``name`` is ``package-N``, or ``package-N-die-M``)
has ``constraint_0_power_limit_uw``: on Intel its long-term limit (PL1), whose name
``constraint_0_name`` reads ``long_term``. The knob reads and writes that file (µW). Its range runs
from ``constraint_0_min_power_uw`` where the zone has one, else :data:`FLOOR_W`, up to
``constraint_0_max_power_uw``, else the limit as first read (never above what the firmware set).

powercap exposes no default limit, so :meth:`PackageLimit.stock` is the value this process first
read: the firmware's PL1 unless something changed it before the run (a killed run that was not
recovered). Writing needs root or CAP_SYS_ADMIN and the file writable. The tree's root is
``SITEBENCH_POWERCAP_ROOT`` (default ``/sys/class/powercap``), as for the rapl meter.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bench.power.knobs import permission
from bench.power.knobs.knob import Allowed, Knob, KnobFailed, KnobRefused, Value, register
from bench.power.meters.rapl import powercap_root

KIND = "cpu.package_limit"
LIMIT = "constraint_0_power_limit_uw"
#: The lowest limit offered where the zone states no minimum (W).
FLOOR_W = 1.0
#: A zone's directory name (top-level zones only: sub-zones are cores, uncore, DRAM).
ZONE_NAME = re.compile(r"^(intel|amd)-rapl:\d{1,4}$")


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


class PackageLimit(Knob):
    """One package zone's long-term power limit."""

    kind = KIND
    unit = "W"
    permission = "root or CAP_SYS_ADMIN, and the zone's constraint_0_power_limit_uw writable"
    settle_s = 1.0

    def __init__(self, zone: Path) -> None:
        super().__init__(zone.name)
        self.zone = zone
        self.file = zone / LIMIT
        self.first = self.read()

    def read(self) -> float:
        """The limit now (W)."""
        try:
            return int(self.file.read_text().strip()) / 1e6
        except (OSError, ValueError) as exc:
            raise KnobFailed(f"{self.label}: cannot read {self.file}: {exc}"[:500]) from None

    def allowed(self) -> Allowed:
        """From the zone's minimum (else :data:`FLOOR_W`) to its maximum (else the first value read)."""
        low_uw = _read_int(self.zone / "constraint_0_min_power_uw")
        high_uw = _read_int(self.zone / "constraint_0_max_power_uw")
        low = low_uw / 1e6 if low_uw and low_uw > 0 else FLOOR_W
        high = high_uw / 1e6 if high_uw and high_uw > 0 else self.first
        return Allowed(low=low, high=max(high, low))

    def stock(self) -> float:
        """The limit this process first read (powercap has no default)."""
        return self.first

    def missing_permission(self) -> str | None:
        """None with root or CAP_SYS_ADMIN and the file writable."""
        lacking = permission.lacking_admin()
        if lacking:
            return lacking
        if not permission.writable(self.file):
            return f"{self.file} is not writable by this process"
        return None

    def set(self, value: Value) -> None:
        """Write ``value`` W (in whole µW)."""
        try:
            self.file.write_text(f"{round(float(value) * 1e6)}\n")
        except OSError as exc:
            raise KnobFailed(f"{self.label}: writing {float(value):g} W to {self.file}: {exc}"[:500]) from None

    def spec(self) -> dict[str, Any]:
        """``{"kind": "cpu.package_limit", "target": "intel-rapl:N", "path": "..."}``."""
        return {"kind": KIND, "target": self.target, "path": str(self.zone)}

    def notes(self) -> list[str]:
        """What makes the limit mean less than it says: the zone disabled, a constraint that is not PL1."""
        out = []
        if (self.zone / "enabled").exists() and _read_int(self.zone / "enabled") == 0:
            out.append(f"{self.label}: the zone's enabled file reads 0, so its limits are not enforced")
        try:
            name = (self.zone / "constraint_0_name").read_text().strip()
        except OSError:
            name = None
        if name is not None and name != "long_term":
            out.append(f"{self.label}: constraint 0 is {name[:40]!r}, not the long-term limit (PL1)")
        return out


def _package_zones(root: Path) -> list[Path]:
    found: dict[Path, Path] = {}
    for pattern in ("intel-rapl:*", "amd-rapl:*"):
        for zone in root.glob(pattern):
            try:
                name = (zone / "name").read_text().strip()
            except OSError:
                continue
            if ZONE_NAME.match(zone.name) and name.startswith("package-") and (zone / LIMIT).exists():
                found.setdefault(zone.resolve(), zone)
    return sorted(found.values(), key=lambda p: (not p.name.startswith("intel-rapl"), p.name))


def open_device(device: str) -> list[Knob]:
    """Every package zone with a power limit (the package limit is the machine's, whatever ``device`` runs).

    Raises:
        KnobRefused: no powercap tree or no package zone with a limit.
    """
    root = powercap_root()
    if not root.is_dir():
        raise KnobRefused(f"{KIND}: {root} not present (no powercap; set SITEBENCH_POWERCAP_ROOT if it lives "
                          "elsewhere)")
    zones = _package_zones(root)
    if not zones:
        raise KnobRefused(f"{KIND}: no RAPL package zone with {LIMIT} under {root}")
    knobs: list[Knob] = []
    for zone in zones:
        try:
            knobs.append(PackageLimit(zone))
        except KnobFailed as exc:
            raise KnobRefused(str(exc)) from None
    return knobs


def reopen(spec: dict[str, Any]) -> Knob:
    """The zone a journal line names, under this process's powercap root (recover).

    Raises:
        KnobFailed: a target that is no zone name, or the zone not present.
    """
    target = str(spec.get("target"))[:80]
    if not ZONE_NAME.match(target):
        raise KnobFailed(f"{KIND}: {target!r} is not a powercap package zone")
    zone = powercap_root() / target
    if not (zone / LIMIT).exists():
        raise KnobFailed(f"{KIND} on {target}: {zone / LIMIT} not present")
    return PackageLimit(zone)


register(KIND, reopen)
