"""A fake powercap tree with writable constraints (``SITEBENCH_POWERCAP_ROOT`` points at it).

Each package ``intel-rapl:N`` (name ``package-N``) has its energy counter and its long-term limit,
``constraint_0_power_limit_uw``, a plain file the package knob writes; a ``core`` sub-zone
``intel-rapl:N:0`` has a constraint of its own, which the package knob must leave alone. The
limits are a 2-socket server's as such a tree shows them (PL1 = TDP = max 250 W, MODELLED).
:func:`live_counter` makes each package's counter advance at ``min(want_w, its limit now)``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.power.meters import rapl

RANGE_UJ = 262_143_328_850


def zone(root: Path, dirname: str, name: str, limit_w: float | None = 250.0, max_w: float | None = 250.0,
         min_w: float | None = None, enabled: int = 1, constraint: str = "long_term") -> Path:
    """One zone directory with its counter and constraint 0 (files left out where None)."""
    z = root / dirname
    z.mkdir(parents=True)
    (z / "name").write_text(name + "\n")
    (z / "energy_uj").write_text("0\n")
    (z / "max_energy_range_uj").write_text(f"{RANGE_UJ}\n")
    (z / "enabled").write_text(f"{enabled}\n")
    (z / "constraint_0_name").write_text(constraint + "\n")
    for file, watts in (("constraint_0_power_limit_uw", limit_w), ("constraint_0_max_power_uw", max_w),
                        ("constraint_0_min_power_uw", min_w)):
        if watts is not None:
            (z / file).write_text(f"{round(watts * 1e6)}\n")
    return z


def tree(root: Path, packages: int = 2, **kw: object) -> list[Path]:
    """``packages`` package zones, each with a core sub-zone; returns the package zones."""
    out = []
    for n in range(packages):
        out.append(zone(root, f"intel-rapl:{n}", f"package-{n}", **kw))  # type: ignore[arg-type]
        zone(root, f"intel-rapl:{n}:0", "core", limit_w=0.0, max_w=None)
    return out


def limit_uw(z: Path) -> int:
    """The limit the zone holds now (µW)."""
    return int((z / "constraint_0_power_limit_uw").read_text())


def install(root: Path, monkeypatch: pytest.MonkeyPatch, **kw: object) -> list[Path]:
    """A tree under ``root`` that ``SITEBENCH_POWERCAP_ROOT`` points at; returns its package zones."""
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(root))
    return tree(root, **kw)


def live_counter(monkeypatch: pytest.MonkeyPatch, want_w: float) -> None:
    """Each package's ``energy_uj`` advances at ``min(want_w, its limit)``, integrated from one read of a
    zone to the next at the limit in force at the later read (exact while the limit changes between
    polls no more than once)."""
    real = rapl._read_int
    state: dict[Path, tuple[float, float]] = {}

    def read(path: Path) -> int:
        if path.name != "energy_uj":
            return real(path)
        now = time.monotonic()
        watts = min(want_w, limit_uw(path.parent) / 1e6)
        t, uj = state.get(path.parent, (now, 0.0))
        uj += watts * (now - t) * 1e6
        state[path.parent] = (now, uj)
        return int(uj) % (RANGE_UJ + 1)

    monkeypatch.setattr(rapl, "_read_int", read)
