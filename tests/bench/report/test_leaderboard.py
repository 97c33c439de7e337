"""Leaderboard ranks stored runs by work per joule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.report.leaderboard import entries
from bench.store import submit


def test_ranked_best_first(doc: dict[str, Any], tmp_path: Path) -> None:
    store = tmp_path / "store"
    src = tmp_path / "a.json"
    src.write_text(json.dumps(doc))
    submit(src, "acme", store)
    better = json.loads(json.dumps(doc))
    better["id"] = "b" * 32
    for run in better["runs"]:
        for holder in (run["power"], run["power"]["meters"][0]):  # half the power, consistently
            for key in ("energy_j", "avg_w", "peak_w", "idle_before_w", "idle_after_w"):
                if holder.get(key) is not None:
                    holder[key] /= 2
            holder["trace"] = [[t, w / 2] for t, w in holder["trace"]]
        run["power"]["window_energy_j"] = [e / 2 for e in run["power"]["window_energy_j"]]
        run["efficiency"]["per_joule"] *= 2
    src.write_text(json.dumps(better))
    submit(src, "beta", store)
    rows = entries(store, "sha256d")
    assert [r.org for r in rows] == ["beta", "acme"]
    assert rows[0].per_joule > rows[1].per_joule and not rows[0].signed
    r = subprocess.run([sys.executable, "-m", "bench", "leaderboard", "--store", str(store), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and {e["org"] for e in json.loads(r.stdout)} == {"acme", "beta"}


def test_the_table_names_the_figure_it_shows_and_how_it_ranks(doc: dict[str, Any], tmp_path: Path) -> None:
    from bench.report.leaderboard import format_table

    store = tmp_path / "store"
    src = tmp_path / "a.json"
    src.write_text(json.dumps(doc))
    submit(src, "acme", store)
    table = format_table(entries(store))
    headers = [str(c.header) for c in table.columns]
    assert "J/TH or J/token" in headers and "efficiency" not in headers and "power source" in headers
    assert "most work per joule" in str(table.title) and "lowest J/TH or J/token first" in str(table.title)
    hashing = format_table(entries(store, "sha256d"))
    assert "J/TH" in [str(c.header) for c in hashing.columns] and "J/token" not in str(hashing.title)
