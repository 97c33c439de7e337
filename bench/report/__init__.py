"""`sitebench report`: one self-contained HTML page (inline CSS and SVG plots) from result files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report.render import render

__all__ = ["render", "write_report"]


def write_report(files: list[tuple[str, dict[str, Any]]], out: str | Path, *, mw: float = 1.0,
                 pue: float = 1.0, title: str = "Site qualification report") -> Path:
    """Render ``(path, document)`` pairs and write the page atomically to ``out``."""
    from bench.resultfile import write_atomic

    return write_atomic(out, render(files, mw=mw, pue=pue, title=title))
