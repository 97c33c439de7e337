"""Tables people read: sweep labels, quality and power notes, the fleet block of `sitebench show`,
and what a MW buys through the sizing model."""

from __future__ import annotations

from rich.console import Console

from bench.record import Fleet, FleetNode, NodeTotal, System, WorkloadTotal
from bench.report.terminal import fleet_table, labels, per_mw_table, power_notes, quality_label
from bench.sizing.model import Allocation, Sized, size
from bench.sizing.sources import candidates
from tests.records import document, run


def _render(table: object) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def test_fleet_table_shows_each_node_the_fleet_total_and_lost_ranks() -> None:
    doc = document([run("sha256d", unit="hash")])
    doc.fleet = Fleet(world_size=3, lost_ranks=[2],
                      nodes={"n0": FleetNode(ranks=[0, 1], system=System()), "n1": FleetNode(ranks=[2], system=System())},
                      totals={"sha256d": WorkloadTotal(throughput=3e9, avg_w=None, nodes={
                          "n0": NodeTotal(throughput=3e9, avg_w=1500.0), "n1": NodeTotal(throughput=0.0)})})
    text = _render(fleet_table(doc))
    assert "LOST ranks [2]" in text
    assert "n0" in text and "1.5 kW" in text and "3 GH/s" in text
    assert "meter failed" in text and "incomplete" in text
    assert fleet_table(document([])) is None


def test_labels_name_the_parameters_that_differ_in_a_sweep() -> None:
    runs = [run("llm-decode", params={"batch": b, "model": "tiny"}) for b in (1, 4)]
    runs.append(run("sha256d", params={"count": 1}))
    assert labels(runs) == ["llm-decode batch=1", "llm-decode batch=4", "sha256d"]


def test_quality_level_and_power_notes_name_refused_windows_gaps_and_instability() -> None:
    ok = run("sha256d")
    refused = run("llm-decode", valid=False)
    refused.power.invalid_reasons = ["csv: 4 readings in the window (need 10)"]
    refused.power.flags = ["csv: 1 gap(s) in the measured window, first: log hole"]
    assert quality_label(ok) == "L2" and "refused" in quality_label(refused)
    assert power_notes([ok, refused]) == ["llm-decode on cpu: csv: 4 readings in the window (need 10)",
                                          "llm-decode on cpu: csv: 1 gap(s) in the measured window, first: log hole"]
    shaky = run("sha256", spread=0.3)
    assert shaky.throughput.unstable
    assert any("unstable" in n and "sha256" in n for n in power_notes([shaky]))


def test_per_mw_table_prints_the_sizing_models_figures() -> None:
    doc = document([run("sha256d", rate=1e9, watts=400.0, scope="gpu:0")])
    (c,) = candidates(doc, "r.json")
    s = size(c, Allocation(1.0))
    assert isinstance(s, Sized) and s.node_overhead_w > 0
    table, modelled = per_mw_table(doc, "r.json")
    text = _render(table)
    assert not modelled and f"{s.machines:,}" in text and "with node overhead" in text


def test_the_runs_table_prints_the_machine_efficiency_beside_the_measured_one() -> None:
    from bench.report.terminal import runs_table
    from bench.sizing.model import machine_efficiency

    components = run("sha256d", rate=1e9, watts=400.0, scope="gpu:0")
    wall = run("sha256d", rate=1e9, watts=400.0, scope="wall")
    text = _render(runs_table([components, wall]))
    machine = machine_efficiency(components)
    assert machine is not None and machine < (components.efficiency.per_joule or 0)
    assert text.count("with node overhead") == 1 and machine_efficiency(wall) is None


def _headers(table: object) -> list[str]:
    from rich.table import Table

    assert isinstance(table, Table)
    return [str(c.header) for c in table.columns]


def test_an_energy_per_unit_column_is_headed_by_what_it_holds_not_efficiency() -> None:
    from bench.report.terminal import runs_table
    from bench.tables import efficiency_header

    assert efficiency_header(["hash"]) == "J/TH" and efficiency_header(["token", "token"]) == "J/token"
    assert efficiency_header(["token", "hash"]) == "J/TH or J/token", "one order, whatever the rows' order"
    assert efficiency_header(["widget"]) == "efficiency (widget/J)", "units per joule is what efficiency means"
    mining = document([run("sha256d", rate=1e9, watts=400.0)])
    serving = document([run("llm-decode", unit="token", rate=500.0, watts=400.0)])
    for doc, header in ((mining, "J/TH"), (serving, "J/token")):
        runs, (per_mw, _) = runs_table(doc.runs), per_mw_table(doc, "r.json")
        for table in (runs, per_mw):
            assert header in _headers(table) and "efficiency" not in _headers(table)
        assert "facility MW" in _headers(per_mw) and "power source" in _headers(per_mw)
        assert f" {header}" in _render(runs), "the cells carry the same unit as the header"


def test_device_kinds_are_named_for_people() -> None:
    from bench.record import Hardware
    from bench.report.terminal import device_kind

    assert device_kind(run("w", "cpu")) == "CPU" and device_kind(run("w", "cuda:3")) == "GPU"
    assert device_kind(run("w", "asic:10.0.0.7", hardware=Hardware(kind="asic"))) == "ASIC miner"
    assert device_kind(run("w", "endpoint:h", hardware=Hardware(kind="endpoint"))) == "endpoint"
    assert device_kind(run("w", "declared")) == "declared hardware"


def test_show_names_the_declared_hardware_instead_of_unknown_cpu_fields() -> None:
    from bench.record import load
    from bench.report.terminal import system_line

    line = system_line(load("builtin:declared/bitmain-antminer-s21-pro"))
    assert line.startswith("hardware: Bitmain Antminer S21 Pro, declared") and "cpu ?" not in line
    assert "published" in line, "where the declared figures come from"
    measured = system_line(document([run("sha256d")], cpu={"model": "Test CPU", "logical_cpus": 4}))
    assert measured.startswith("system: h") and "cpu Test CPU (4 logical)" in measured
    bare = system_line(document([run("sha256d")], hostname=None, model="Rack 7 server"))
    assert bare.startswith("hardware: Rack 7 server, no CPU or GPU recorded") and "?" not in bare
