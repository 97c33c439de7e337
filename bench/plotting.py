"""What every sitebench plot shares: matplotlib (Agg, no display), the style, colours, SI scaling, output.

Both ``sitebench size``/``plan`` plots (:mod:`bench.sizing.plots`) and the
report's inline SVG (:mod:`bench.report.plots`) draw through this module.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from bench.errors import UsageError

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
DECLARED_COLOUR = "#7f7f7f"
MODELLED_COLOUR = "#f0a030"
#: Labels on plots are cut to this many characters (a hostile file's 20 MB name is not laid out).
MAX_LABEL = 60
#: An axis whose positive values span more than this many decades is drawn on a log scale: on a linear
#: one a CPU's 3e5 J/TH beside an ASIC's 20 J/TH leaves the ASIC bars a pixel wide.
LOG_DECADES = 1.5


def plt() -> Any:
    """``matplotlib.pyplot`` on the Agg backend with sitebench's style."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as pyplot

    pyplot.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                            "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
                            "font.family": "sans-serif"})
    return pyplot


def label(text: object) -> str:
    """A label as plots show it: one line, at most :data:`MAX_LABEL` characters."""
    s = " ".join(str(text).split())
    return s if len(s) <= MAX_LABEL else s[: MAX_LABEL - 1] + "…"


def svg(fig: Any) -> str:
    """The figure as inline ``<svg>`` text (closed afterwards)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def decades(values: list[float]) -> float:
    """How many decades the positive, finite ``values`` span (0 for fewer than two of them)."""
    pos = [v for v in values if v > 0 and math.isfinite(v)]
    return math.log10(max(pos) / min(pos)) if len(pos) > 1 else 0.0


def wants_log(values: list[float], limit: float = LOG_DECADES) -> bool:
    """Whether an axis holding ``values`` reads better on a log scale: they span more than ``limit`` decades."""
    return decades(values) > limit


def plain(value: float) -> str:
    """A tick label without offset or exponent: ``1,200,000``, ``0.005``."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def plain_ticks(ax: Any, axis: str = "x") -> None:
    """Tick labels on ``axis`` as :func:`plain` writes them (no ``1e6`` offset to find in a corner)."""
    from matplotlib.ticker import FuncFormatter

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(FuncFormatter(lambda v, _pos: plain(v)))


def log_axis(ax: Any, axis: str = "x") -> None:
    """A log scale on ``axis``, ticks at decades labelled plainly (``0.01``, ``1,000``: no mathtext)."""
    from matplotlib.ticker import LogLocator, NullFormatter

    getattr(ax, f"set_{axis}scale")("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(LogLocator(base=10))
    target.set_minor_formatter(NullFormatter())
    plain_ticks(ax, axis)


def save(fig: Any, path: str, option: str = "--plot") -> Path:
    """Write the figure to ``path`` (.png or .svg) and close it."""
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format=out.suffix.lower()[1:], bbox_inches="tight", dpi=120)
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write ({exc.strerror or exc})") from None
    finally:
        plt().close(fig)
    return out


def short_unit(unit: str) -> str:
    """``hash`` -> ``H``, ``token`` -> ``tok``."""
    return {"hash": "H", "token": "tok"}.get(unit, unit)


def si_scale(values: list[float]) -> tuple[float, str]:
    """The SI scale and prefix for an axis holding ``values``."""
    top = max((abs(v) for v in values), default=0.0)
    for scale, prefix in ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if top >= scale:
            return scale, prefix
    return 1.0, ""
