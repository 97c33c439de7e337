"""The report's heat section: each file's derating curve, and throughput per month at a site's climate."""

from __future__ import annotations

from bench.report import model
from bench.report.page import esc, figure, section
from bench.sizing.climate.annual import annual
from bench.sizing.climate.cooling import Cooling
from bench.sizing.climate.curves import curve_for
from bench.sizing.climate.plots import derating_svg, months_svg
from bench.sizing.climate.render import Row
from bench.sizing.climate.year import ClimateYear
from bench.sizing.model import Sized, Skipped


def climate_section(sources: list[model.Source], sized: list[tuple[model.Source, Sized | Skipped]],
                    climate: tuple[ClimateYear, Cooling] | None) -> str:
    """Derating curves (fitted or DECLARED, as the files hold them) and, with a climate, the monthly plot;
    empty when there is neither."""
    body = ""
    for src in sources:
        d = src.doc.derating
        if d is not None:
            body += figure(f"[{src.tag}] {d.source} derating: {d.workload} on {d.system}, against {d.channel}",
                           derating_svg(d), "no curve to draw")
    if climate is not None:
        year, cool = climate
        rows = [Row(f"[{src.tag}] {s.workload}", s.system, annual(s, year, cool, curve_for(s, src.doc)))
                for src, s in sized if isinstance(s, Sized)]
        body += figure(f"Throughput per facility MW per month at {year.name} ({cool.kind} cooling; "
                       f"{'CONSTRUCTED typical year' if year.constructed else 'hourly year'}): bounds shaded, "
                       "the flat figure dashed", months_svg(rows), "nothing could be sized")
        body += f'<p class="note">{esc(cool.summary)}. {esc(year.notes[0] if year.notes else "")}</p>'
    return section("heat", "Heat: derating and the year", body) if body else ""
