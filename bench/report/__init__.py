"""`sitebench report`: one self-contained HTML page (inline CSS and SVG plots) from result files."""

from __future__ import annotations

from pathlib import Path

from bench.record import Document, write_atomic
from bench.report.render import render
from bench.sizing.climate.cooling import Cooling
from bench.sizing.climate.year import ClimateYear

__all__ = ["render", "write_report"]


def write_report(files: list[tuple[str, Document]], out: str | Path, *, mw: float = 1.0,
                 pue: float = 1.0, title: str = "Site qualification report",
                 climate: tuple[ClimateYear, Cooling] | None = None) -> Path:
    """Render ``(path, document)`` pairs and write the page atomically to ``out``."""
    return write_atomic(out, render(files, mw=mw, pue=pue, title=title, climate=climate))
