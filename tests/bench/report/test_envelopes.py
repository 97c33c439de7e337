"""The report's operating envelopes: a table and a plot per sweep, the frontier and the chosen point marked."""

from __future__ import annotations

from bench.record import load
from bench.report import plots
from bench.report.render import render
from bench.sizing.frontier import choose, envelopes
from tests.bench.sizing.test_frontier import gpu_point
from tests.records import document, run


def test_a_sweep_gets_a_section_with_its_frontier_plot_and_choice() -> None:
    doc = document([gpu_point(300, 100.0, 300.0), gpu_point(500, 95.0, 520.0), gpu_point(700, 150.0, 700.0, stock=True)])
    page = render([("sweep.json", doc)], mw=1.0)
    assert 'id="envelopes"' in page and "Operating envelopes" in page
    assert "Chosen for 1 MW at PUE 1: at 300 W: +56% throughput per MW" in page
    section = page[page.index('id="envelopes"'):page.index('id="validation"')]
    assert section.count(">on the frontier<") == 2 and ">dominated<" in section
    assert "<svg" in section


def test_a_declared_curve_is_marked_declared() -> None:
    page = render([("s.json", load("builtin:declared/bitmain-antminer-s19j-pro-sweep"))], mw=100.0)
    assert "DECLARED (vendor curve, not measured): Bitmain Antminer S19j Pro" in page
    assert "1.50x the machines" in page


def test_files_without_settings_have_no_envelope_section() -> None:
    assert 'id="envelopes"' not in render([("r.json", document([run(), run(rate=20.0)]))])


def test_the_plot_marks_frontier_stock_and_chosen() -> None:
    (env,) = envelopes(load("builtin:declared/bitmain-antminer-s19j-pro-sweep"), "s")
    svg = plots.envelope_plot(env, choose(env, 100.0).point)
    assert svg is not None and svg.startswith("<svg")
    for text in ("Pareto frontier", "1905 W: chosen", "2850 W: stock", "J/TH (lower is better)", "TH/s per machine",
                 "(DECLARED)"):
        assert text in svg
