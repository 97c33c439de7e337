"""Tables people read: sweep labels and the fleet block of `sitebench show`."""

from __future__ import annotations

from rich.console import Console

from bench.tables import fleet_table, labels


def _render(table: object) -> str:
    console = Console(width=160, record=True)
    console.print(table)
    return console.export_text()


def test_fleet_table_shows_each_node_the_fleet_total_and_lost_ranks() -> None:
    doc = {
        "runs": [{"workload": "sha256d", "unit": "hash"}],
        "fleet": {"world_size": 3, "lost_ranks": [2],
                  "nodes": {"n0": {"ranks": [0, 1]}, "n1": {"ranks": [2]}},
                  "totals": {"sha256d": {"throughput": 3e9, "avg_w": None,
                                         "nodes": {"n0": {"throughput": 3e9, "avg_w": 1500.0},
                                                   "n1": {"throughput": 0.0, "avg_w": None}}}}},
    }
    text = _render(fleet_table(doc))
    assert "LOST ranks [2]" in text
    assert "n0" in text and "1.5 kW" in text and "3 GH/s" in text
    assert "meter failed" in text and "incomplete" in text
    assert fleet_table({"runs": []}) is None


def test_labels_name_the_parameters_that_differ_in_a_sweep() -> None:
    runs = [{"workload": "llm-decode", "device": "cpu", "params": {"batch": b, "model": "tiny"}} for b in (1, 4)]
    runs.append({"workload": "sha256d", "device": "cpu", "params": {"count": 1}})
    assert labels(runs) == ["llm-decode batch=1", "llm-decode batch=4", "sha256d"]


def test_quality_level_and_power_notes_name_refused_windows_and_gaps() -> None:
    from bench.tables import power_notes, quality_label

    ok = {"quality": {"level": 3}, "valid_for_sizing": True, "flags": []}
    refused = {"quality": {"level": 1}, "valid_for_sizing": False,
               "invalid_reasons": ["csv: 4 readings in the window (need 10)"],
               "flags": ["csv: 1 gap(s) in the measured window, first: log hole"]}
    assert quality_label(ok) == "L3" and "refused" in quality_label(refused) and quality_label({}) == "-"
    runs = [{"workload": "sha256d", "device": "cpu", "params": {}, "power": ok},
            {"workload": "llm-decode", "device": "cpu", "params": {}, "power": refused}]
    assert power_notes(runs) == ["llm-decode on cpu: csv: 4 readings in the window (need 10)",
                                 "llm-decode on cpu: csv: 1 gap(s) in the measured window, first: log hole"]
