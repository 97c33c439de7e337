"""Compare two result files run by run: median change plus a Mann-Whitney U test.

A run regresses only when its median slows by more than the threshold AND the
raw throughput samples differ significantly (p < alpha), so noise alone never
fails a gate.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Comparison:
    """One matched run (same workload, device and params) in two result files."""

    workload: str
    device: str
    params: dict[str, Any]
    base_median: float | None
    new_median: float | None
    change: float | None
    p_value: float | None
    regression: bool
    improvement: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of this comparison."""
        return asdict(self)


def _key(run: dict[str, Any]) -> tuple[str, str, str]:
    return (str(run.get("workload")), str(run.get("device")),
            json.dumps(run.get("params") or {}, sort_keys=True, separators=(",", ":")))


def _samples(run: dict[str, Any]) -> list[float]:
    t = run.get("throughput") or {}
    return [float(x) for x in t.get("samples") or [] if isinstance(x, (int, float))]


def _median(run: dict[str, Any]) -> float | None:
    m = (run.get("throughput") or {}).get("median")
    return float(m) if isinstance(m, (int, float)) else None


def _p_value(a: list[float], b: list[float]) -> float | None:
    if len(a) < 2 or len(b) < 2:
        return None
    from scipy.stats import mannwhitneyu

    if len(set(a) | set(b)) == 1:
        return 1.0
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def _pairs(base_runs: dict[tuple[str, str, str], dict], new_runs: dict[tuple[str, str, str], dict]
           ) -> list[tuple[tuple[str, str, str], dict | None, dict | None, str]]:
    """Runs matched by key; a run left alone on each side with the same workload and device and
    no parameter of different value (only added or dropped ones) is paired anyway, with a note:
    a new knob at its default must not hide a regression."""
    def compatible(a: tuple[str, str, str], b: tuple[str, str, str]) -> bool:
        pa, pb = json.loads(a[2]), json.loads(b[2])
        return a[:2] == b[:2] and all(pa[k] == pb[k] for k in pa.keys() & pb.keys())

    left_b = [k for k in base_runs if k not in new_runs]
    left_n = [k for k in new_runs if k not in base_runs]
    out: list[tuple[tuple[str, str, str], dict | None, dict | None, str]] = []
    for key in base_runs:
        if key in new_runs:
            out.append((key, base_runs[key], new_runs[key], ""))
            continue
        same = [k for k in left_n if compatible(key, k)]
        if len(same) == 1 and [k for k in left_b if compatible(k, same[0])] == [key]:
            left_n.remove(same[0])
            out.append((same[0], base_runs[key], new_runs[same[0]], f"params differ (base {key[2]})"))
        else:
            out.append((key, base_runs[key], None, "only in base"))
    out.extend((k, None, new_runs[k], "only in new") for k in left_n)
    return out


def compare_documents(base: dict, new: dict, threshold: float = 0.05,
                      per_workload: dict[str, float] | None = None,
                      alpha: float = 0.05) -> list[Comparison]:
    """Match runs of ``base`` and ``new`` by workload, device and params and compare them.

    ``threshold`` is the relative slowdown (0.05 = 5 %) that counts as a regression,
    overridden per workload name by ``per_workload``. A run left alone on each side
    with the same workload, device and common parameter values (a parameter only added
    or dropped) is compared anyway, noted "params differ".
    Runs present in only one file are reported with a note and never count as regressions.
    """
    per_workload = per_workload or {}
    base_runs = {_key(r): r for r in base.get("runs") or [] if isinstance(r, dict)}
    new_runs = {_key(r): r for r in new.get("runs") or [] if isinstance(r, dict)}
    out: list[Comparison] = []
    for key, b, n, pair_note in _pairs(base_runs, new_runs):
        run = n or b
        assert run is not None
        params = run.get("params") or {}
        if b is None or n is None:
            out.append(Comparison(key[0], key[1], params, _median(b) if b else None,
                                  _median(n) if n else None, None, None, False, False, pair_note))
            continue
        bm, nm = _median(b), _median(n)
        if bm is None or nm is None or bm <= 0 or b.get("status", "ok") != "ok" or n.get("status", "ok") != "ok":
            out.append(Comparison(key[0], key[1], params, bm, nm, None, None, False, False,
                                  "no usable throughput in one of the runs"))
            continue
        change = (nm - bm) / bm
        p = _p_value(_samples(b), _samples(n))
        limit = per_workload.get(key[0], threshold)
        significant = p is not None and p < alpha
        notes = [pair_note] if pair_note else []
        if p is None:
            notes.append("too few samples for a significance test")
        out.append(Comparison(key[0], key[1], params, bm, nm, change, p,
                              change < -limit and significant, change > limit and significant, "; ".join(notes)))
    return out


def parse_workload_thresholds(items: list[str]) -> dict[str, float]:
    """``["NAME=PCT", ...]`` -> ``{NAME: fraction}``.

    Raises:
        UsageError: naming the item that is not ``NAME=PCT`` with PCT >= 0.
    """
    from bench.errors import UsageError

    per: dict[str, float] = {}
    for item in items:
        name, _, pct = item.partition("=")
        try:
            value = float(pct)
        except ValueError:
            value = -1.0
        if not name or not value >= 0:
            raise UsageError(f"--workload-threshold {item!r}: expected NAME=PCT with PCT >= 0")
        per[name] = value / 100
    return per


def format_table(comparisons: list[Comparison]) -> Any:
    """A rich Table of ``comparisons``."""
    from rich.table import Table

    table = Table(title="compare")
    for col in ("workload", "device", "params", "base median", "new median", "change", "p", "verdict"):
        table.add_column(col)
    for c in comparisons:
        verdict = "REGRESSION" if c.regression else "improvement" if c.improvement else (c.note or "ok")
        table.add_row(c.workload, c.device, json.dumps(c.params, sort_keys=True),
                      "-" if c.base_median is None else f"{c.base_median:.4g}",
                      "-" if c.new_median is None else f"{c.new_median:.4g}",
                      "-" if c.change is None else f"{c.change:+.1%}",
                      "-" if c.p_value is None else f"{c.p_value:.3g}", verdict)
    return table
