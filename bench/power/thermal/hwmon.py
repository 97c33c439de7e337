"""CPU package temperatures from the kernel's hwmon sysfs (``coretemp`` on Intel, ``k10temp`` on AMD).

``/sys/class/hwmon/hwmon*/name`` names the driver; ``temp*_input`` is a reading in millidegrees C and
``temp*_label`` says which: Intel's ``coretemp`` gives ``Package id N`` (one channel per package N, beside
``Core K`` readings that are left out), AMD's ``k10temp`` gives ``Tctl`` and, on the parts where Tctl
carries an offset for fan control, ``Tdie`` (the die's own temperature, preferred when present); each
``k10temp`` device is one package, numbered in the order of their PCI devices. ``temp*_max`` and
``temp*_crit`` are recorded as the thresholds ``max`` and ``crit`` where the driver gives them (coretemp:
``crit`` is TjMax, where the CPU throttles itself).

The root can be moved with ``SITEBENCH_HWMON_ROOT`` (a fake tree in tests), as ``SITEBENCH_POWERCAP_ROOT``
moves RAPL's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.thermal.source import Channel, ThermalSource, admit, key

DEFAULT_ROOT = "/sys/class/hwmon"
ROOT_ENV = "SITEBENCH_HWMON_ROOT"
DRIVERS = ("coretemp", "k10temp")
DEFAULT_PERIOD_S = 1.0
#: k10temp labels, the first present is the package's temperature
K10_LABELS = ("Tdie", "Tctl")
_PACKAGE = re.compile(r"^(?:Package|Physical) id (\d+)$")


def hwmon_root() -> Path:
    """The hwmon root, ``SITEBENCH_HWMON_ROOT`` or ``/sys/class/hwmon``."""
    return Path(os.environ.get(ROOT_ENV, DEFAULT_ROOT))


def _text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _number(name: str) -> int:
    digits = re.sub(r"\D", "", name)
    return int(digits) if digits else 0


def _labels(hw: Path) -> dict[str, Path]:
    """``{label: temp*_input}`` of one hwmon device (an input without a label is ``temp<i>``)."""
    out: dict[str, Path] = {}
    for inp in sorted(hw.glob("temp*_input"), key=lambda p: _number(p.name)):
        stem = inp.name.removesuffix("_input")
        out[_text(hw / f"{stem}_label") or stem] = inp
    return out


def _thresholds(inp: Path) -> dict[str, float]:
    stem = inp.name.removesuffix("_input")
    out: dict[str, float] = {}
    for name in ("max", "crit"):
        raw = _text(inp.with_name(f"{stem}_{name}"))
        try:
            value = admit(int(raw) / 1000.0, "°C") if raw is not None else None
        except ValueError:
            value = None
        if value is not None:
            out[name] = value
    return out


def find_packages(root: Path) -> list[tuple[Channel, Path]]:
    """Every CPU package's temperature channel under ``root`` and the file it reads."""
    found: list[tuple[Channel, Path]] = []
    devices = sorted(root.glob("hwmon*"), key=lambda p: _number(p.name)) if root.is_dir() else []
    k10 = [hw for hw in devices if _text(hw / "name") == "k10temp"]
    k10.sort(key=lambda hw: os.path.realpath(hw / "device") if (hw / "device").exists() else str(hw))
    for hw in devices:
        driver = _text(hw / "name")
        if driver not in DRIVERS:
            continue
        labels = _labels(hw)
        if driver == "coretemp":
            picks = [(int(m.group(1)), label, inp) for label, inp in labels.items() if (m := _PACKAGE.match(label))]
        else:
            label = next((x for x in K10_LABELS if x in labels), None)
            picks = [(k10.index(hw), label, labels[label])] if label is not None else []
        for package, label, inp in picks:
            sensor = f"hwmon {driver} {inp.parent.name}/{inp.name} ({label!r})"
            found.append((Channel(f"cpu-package:{package}", key("package", "°C"), "package", "°C", sensor,
                                  _thresholds(inp)), inp))
    out: dict[str, tuple[Channel, Path]] = {}
    for c, p in found:
        out.setdefault(c.name, (c, p))  # a package listed twice is read once
    return [out[n] for n in sorted(out, key=_number)]


class HwmonSource(ThermalSource):
    """Every CPU package's temperature, read from sysfs each poll."""

    kind = "hwmon"
    local = True

    def __init__(self, root: Path | None = None, period_s: float = DEFAULT_PERIOD_S) -> None:
        base = root or hwmon_root()
        found = find_packages(base)
        if not found:
            raise MeterUnavailable(f"hwmon: no {' or '.join(DRIVERS)} package temperature under {base}")
        self.files = {c.name: path for c, path in found}
        super().__init__("hwmon", [c for c, _ in found], period_s=period_s)

    def read(self) -> dict[str, float]:
        out: dict[str, float] = {}
        errors: list[str] = []
        for name, path in self.files.items():
            try:
                value = admit(int(path.read_text().strip()) / 1000.0, "°C")
            except (OSError, ValueError) as exc:
                errors.append(f"{path}: {exc}")
                continue
            if value is not None:
                out[name] = value
        if not out and errors:
            raise MeterReadError(f"hwmon: {errors[0]}")
        return out
