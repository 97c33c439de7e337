"""What a reader sees: a log axis where one panel spans decades (a CPU beside ASICs), stacked panels, tables that
scroll inside their card, fans on their own axis, and systems counted by what was measured (miners, not the host
that polled them)."""

from __future__ import annotations

import re
from pathlib import Path

from bench.plotting import decades, wants_log
from bench.record import Document, Hardware, load
from bench.report import model, plots, render
from bench.sizing.model import Allocation, Sized, size
from bench.sizing.sources import candidates
from tests.records import document, meter, run

HERE = Path(__file__).parent
CPU = load(HERE / "sample_run.json")  # llm-decode, sha256 and sha256d on the CPU of host "vm"


def _miners(count: int = 3, host: str = "poller") -> Document:
    """A miners file: ``count`` ASIC runs (110 TH/s at 3250 W: about 29.5 J/TH) polled from ``host``."""
    runs = [run("sha256d", f"asic:10.0.0.{i}", 110e12, 3250.0, unit="hash",
                hardware=Hardware(kind="asic", make="Bitmain", model="Antminer S19 Pro", chips=342))
            for i in range(count)]
    return document(runs, hostname=host)


def _rows(*docs: Document) -> list[tuple[str, Sized]]:
    out = []
    for i, doc in enumerate(docs):
        for c in candidates(doc, f"f{i}.json"):
            s = size(c, Allocation(1.0, 1.0))
            assert isinstance(s, Sized)
            out.append((c.system, s))
    return out


def _titles(svg: str) -> list[str]:
    return [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if "better" in t or " from " in t]


def test_a_panel_spanning_decades_is_drawn_on_a_log_axis() -> None:
    assert wants_log([309_000.0, 29.5, 17.5]) and decades([1.0, 1000.0]) > 2.9
    assert not wants_log([29.5, 32.0, 17.5]) and not wants_log([5.0]) and not wants_log([0.0, 3.0])
    asic = load("builtin:declared/bitmain-antminer-s21")
    mixed = plots.efficiency_bars(_rows(CPU, asic))
    assert mixed is not None
    sha256d = [t for t in _titles(mixed) if t.startswith("sha256d")]
    assert sha256d and "(log scale)" in sha256d[0], "CPU J/TH beside an ASIC's spans about 4 decades"
    assert all("(log scale)" not in t for t in _titles(mixed) if not t.startswith("sha256d")), "one bar: linear"
    alone = plots.efficiency_bars(_rows(asic, load("builtin:declared/canaan-avalon-a1366")))
    assert alone is not None and "(log scale)" not in alone, "ASICs alone (17.5 and 25 J/TH) stay linear"
    bought = plots.sizing_bars(_rows(CPU, asic))
    assert bought is not None and any("(log scale)" in t for t in _titles(bought))
    # every bar carries its figure, so a log axis is read by its labels, not by bar length
    assert "J/TH" in mixed and re.search(r">\d[\d,.]* J/TH<", mixed)


def test_panels_are_stacked_one_per_workload() -> None:
    svg = plots.efficiency_bars(_rows(CPU))
    assert svg is not None and len(_titles(svg)) == 3
    axes = {(x, w, y) for x, y, w in re.findall(r'<clipPath id="[^"]+">\s*<rect x="([\d.]+)" y="([\d.]+)" '
                                                 r'width="([\d.]+)"', svg)}
    assert len(axes) == 3 and len({(x, w) for x, w, _ in axes}) == 1, "three panels, one above another, full width"


def test_every_table_scrolls_inside_its_card() -> None:
    out = render([("cpu.json", CPU), ("miners.json", _miners())])
    assert out.count("<table") == out.count('<div class="tablewrap"><table>') > 3
    assert "div.tablewrap{overflow-x:auto" in out
    runs = out[out.index('id="runs"'):]
    assert 'class="num wrap"' in runs.split("</table>")[0], "the p10 - p90 and efficiency cells may wrap"


def test_fans_have_their_own_axis_apart_from_temperatures() -> None:
    tele = {"board0_temp_c": [[0.0, 62.0], [5.0, 64.0]], "board0_chip_temp_c": [[0.0, 78.0], [5.0, 80.0]],
            "fan0_rpm": [[0.0, 5400.0], [5.0, 5460.0]], "fan1_rpm": [[0.0, 5490.0], [5.0, 5480.0]],
            "hashrate_ths": [[0.0, 110.0], [5.0, 111.0]], "power_w_firmware": [[0.0, 3250.0], [5.0, 3260.0]]}
    r = run("sha256d", "asic:10.0.0.1", 110e12, 3250.0, meters=[meter("node", 3250.0, name="miner-api:10.0.0.1",
                                                                      telemetry=tele)])
    groups = dict(plots.telemetry_groups(r))
    assert set(groups) == {"°C", "fan rpm", "other"}
    assert set(groups["fan rpm"]) == {"fan0_rpm", "fan1_rpm"} and set(groups["°C"]) == {"board0_temp_c",
                                                                                         "board0_chip_temp_c"}
    assert "power_w_firmware" not in {k for g in groups.values() for k in g}, "power is drawn on the W panel"
    svg = plots.run_timeline(r)
    assert svg is not None and ">fan rpm<" in svg and ">°C<" in svg and ">power_w_firmware<" in svg


def test_systems_are_what_was_measured_not_the_polling_host() -> None:
    miners = _miners(3, host="poller")
    src = model.Source("m.json", miners)
    found = model.systems([src])
    assert len(found) == 3 and {m.kind for m in found} == {"asic"} and "poller" not in {m.name for m in found}
    out = render([("m.json", miners)])
    card = re.search(r'<div class="k">systems</div><div class="v">(\d+)</div><div class="s">([^<]*)<', out)
    assert card and card.group(1) == "3" and "3 ASIC miners" in card.group(2) and "poller" not in card.group(2)
    both = render([("cpu.json", CPU), ("m.json", miners)])
    card = re.search(r'<div class="k">systems</div><div class="v">(\d+)</div><div class="s">([^<]*)<', both)
    assert card and card.group(1) == "4" and "1 host: vm" in card.group(2)
    # the same miner in two files (before and after a firmware change) is one system
    assert len(model.systems([src, model.Source("again.json", miners)])) == 3


def test_a_miner_that_never_answered_is_a_miner_and_a_declared_file_is_its_model() -> None:
    failed = document([run("sha256d", "asic:10.0.0.9", 1.0, 1.0).model_copy(update={"status": "failed"})],
                      hostname="poller")
    (m,) = model.systems([model.Source("f.json", failed)])
    assert m.kind == "asic" and m.name == "asic:10.0.0.9"
    declared = load("builtin:declared/bitmain-antminer-s21")
    (d,) = model.systems([model.Source("d.json", declared)])
    assert d.kind == "declared" and "Antminer S21" in d.name


def test_a_contended_run_is_flagged_in_the_summary_and_the_runs_table() -> None:
    from bench.record import Contention, contention_reasons

    reasons = contention_reasons(0.6, 0.0, None, [])
    busy = run().model_copy(update={"contention": Contention(cpus=2, others_cpu=0.6, steal=0.0,
                                                                contended=True, reasons=reasons)})
    html = render([("busy.json", document([busy, run(workload="quiet")]))])
    assert "1 of 2 runs" in html and "CONTENDED" in html and "other processes used 60%" in html
