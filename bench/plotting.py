"""What every sitebench plot shares: matplotlib (Agg, no display), the style, colours, SI scaling, output.

Both ``sitebench size``/``plan`` plots (:mod:`bench.sizing.plots`) and the
report's inline SVG (:mod:`bench.report.plots`) draw through this module.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from bench.errors import UsageError

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
DECLARED_COLOUR = "#7f7f7f"
MODELLED_COLOUR = "#f0a030"
#: Labels on plots are cut to this many characters (a hostile file's 20 MB name is not laid out).
MAX_LABEL = 60


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
