"""Climate files made in the tests: a small EPW year and a CSV year, whole or damaged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.sizing.climate.year import DAYS_IN_MONTH

HEADER = [
    "LOCATION,Testville,PB,PAK,TEST,000000,30.66,73.11,5.0,152.0",
    "DESIGN CONDITIONS,0",
    "TYPICAL/EXTREME PERIODS,0",
    "GROUND TEMPERATURES,0",
    "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0",
    "COMMENTS 1,made in a test",
    "COMMENTS 2,",
    "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
]


def hours(leap: bool = False) -> list[tuple[int, int, int]]:
    """(month, day, hour 0..23) of every hour of a year."""
    days = list(DAYS_IN_MONTH)
    if leap:
        days[1] = 29
    return [(m + 1, d + 1, h) for m, n in enumerate(days) for d in range(n) for h in range(24)]


def temp(month: int, hour: int) -> float:
    """The test year's dry bulb: 20 °C + the month + the hour / 2."""
    return 20.0 + month + hour / 2


def epw_text(leap: bool = False, drop: int | None = None, header: list[str] | None = None,
             rh: str = "50") -> str:
    """An EPW year (hourly, dry bulb from :func:`temp`, RH 50%); ``drop`` leaves out one data line."""
    rows = []
    for i, (m, d, h) in enumerate(hours(leap)):
        if i == drop:
            continue
        rows.append(f"2001,{m},{d},{h + 1},60,?9?9?9?9E0?9?9?9,{temp(m, h):.1f},10.0,{rh},99000,0,0,0,0,0,0,0,0,0,0,"
                    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0")
    return "\n".join((header if header is not None else HEADER) + rows) + "\n"


@pytest.fixture
def write_epw(tmp_path: Path) -> Callable[..., Path]:
    """Write :func:`epw_text` to a file; returns its path."""
    def write(name: str = "year.epw", **kw: object) -> Path:
        path = tmp_path / name
        path.write_text(epw_text(**kw))  # type: ignore[arg-type]
        return path
    return write


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write a CSV year; ``value(month, hour)`` gives the dry bulb, ``rh`` the humidity, ``bad`` replaces a row."""
    def write(name: str = "year.csv", value: Callable[[int, int], float] = temp, rh: float = 50.0,
              bad: tuple[int, str] | None = None, drop: int | None = None) -> Path:
        lines = ["time,dry_bulb_c,rh"]
        for i, (m, d, h) in enumerate(hours()):
            if i == drop:
                continue
            line = f"2023-{m:02d}-{d:02d}T{h:02d}:00,{value(m, h)},{rh}"
            lines.append(bad[1] if bad is not None and bad[0] == i else line)
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path
    return write
