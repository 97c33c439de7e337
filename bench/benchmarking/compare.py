"""Compare two result files run by run: throughput change, its confidence interval, and a significance test.

A run regresses when its throughput drops by more than the threshold AND the
per-window samples differ significantly (Mann-Whitney U, p < alpha), so noise
alone never fails a gate. With too few windows for the test to ever reach
p < alpha (3 against 3 cannot go below p = 0.1), the verdict rests on the
threshold alone and says so, with the repeats a test would need. The effect
is reported as the ratio of the new to the base median with a bootstrap 95%
confidence interval.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from bench import units
from bench.errors import UsageError
from bench.record import Document, Run
from bench.tables import cut

#: Bootstrap resamples for the confidence interval of the median ratio (seeded: the same files, the same interval).
BOOTSTRAP = 2000


@dataclass
class Comparison:
    """One matched run (same workload, device and params) in two result files."""

    workload: str
    device: str
    params: dict[str, Any]
    base: float | None
    new: float | None
    change: float | None
    ratio_low: float | None
    ratio_high: float | None
    p_value: float | None
    test: str
    regression: bool
    improvement: bool
    note: str = ""
    #: The unit of ``base`` and ``new``: units per second of the run (``"hash/s"``, ``"token/s"``).
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of this comparison."""
        return asdict(self)


def min_p(n1: int, n2: int) -> float:
    """The smallest two-sided p-value a Mann-Whitney U test can give for samples of n1 and n2 (no ties)."""
    return 2.0 / math.comb(n1 + n2, n1) if n1 and n2 else 1.0


def repeats_needed(alpha: float) -> int:
    """The fewest windows per side for which the test can reach p < ``alpha``."""
    n = 2
    while min_p(n, n) >= alpha and n < 1000:
        n += 1
    return n


def _p_value(a: list[float], b: list[float]) -> float:
    from scipy.stats import mannwhitneyu

    if len(set(a) | set(b)) == 1:
        return 1.0
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def median_ratio_ci(a: list[float], b: list[float], level: float = 0.95) -> tuple[float, float] | None:
    """Bootstrap interval of median(b) / median(a); None when a side has no sample."""
    if not a or not b:
        return None
    rng = np.random.default_rng(12345)
    base = np.median(rng.choice(np.asarray(a), size=(BOOTSTRAP, len(a))), axis=1)
    new = np.median(rng.choice(np.asarray(b), size=(BOOTSTRAP, len(b))), axis=1)
    ratios = new[base > 0] / base[base > 0]
    if ratios.size == 0:
        return None
    tail = (1 - level) / 2 * 100
    return float(np.percentile(ratios, tail)), float(np.percentile(ratios, 100 - tail))


Key = tuple[str, str, str]


def _key(run: Run) -> Key:
    """Workload, device (with the fleet rank and node: one run per rank) and params."""
    where = run.device if run.rank is None else f"{run.device} rank {run.rank} on {run.node}"
    return run.workload, where, json.dumps(run.params, sort_keys=True, separators=(",", ":"))


def _pairs(base_runs: dict[Key, Run], new_runs: dict[Key, Run]) -> list[tuple[Key, Run | None, Run | None, str]]:
    """Runs matched by key; a run left alone on each side with the same workload and device and
    no parameter of different value (only added or dropped ones) is paired anyway, with a note:
    a new knob at its default must not hide a regression."""
    def compatible(a: Key, b: Key) -> bool:
        pa, pb = json.loads(a[2]), json.loads(b[2])
        return a[:2] == b[:2] and all(pa[k] == pb[k] for k in pa.keys() & pb.keys())

    left_b = [k for k in base_runs if k not in new_runs]
    left_n = [k for k in new_runs if k not in base_runs]
    out: list[tuple[Key, Run | None, Run | None, str]] = []
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


def compare_runs(b: Run, n: Run, limit: float, alpha: float, pair_note: str = "") -> Comparison:
    """One matched pair: change of the throughput, its interval, the test, the verdict."""
    params = n.params
    bm, nm = b.throughput.rate, n.throughput.rate
    notes = [pair_note] if pair_note else []
    unit = f"{n.unit}/s"
    if b.unit != n.unit:
        notes.append(f"units differ (base {b.unit}/s)")
    if bm is None or nm is None or bm <= 0 or not b.ok or not n.ok:
        return Comparison(n.workload, n.device, params, bm, nm, None, None, None, None, "none", False, False,
                          "; ".join([*notes, "no usable throughput in one of the runs"]), unit)
    change = (nm - bm) / bm
    a, c = list(b.throughput.samples), list(n.throughput.samples)
    ci = median_ratio_ci(a, c)
    if min_p(len(a), len(c)) >= alpha:
        test, p = "threshold", None
        notes.append(f"{len(a)} vs {len(c)} repeats: too few for a significance test at p < {alpha:g}; "
                     f"threshold only (use {repeats_needed(alpha)} or more repeats for a test)")
        significant = True
    else:
        test, p = "mann-whitney", _p_value(a, c)
        significant = p < alpha
    return Comparison(n.workload, n.device, params, bm, nm, change, ci[0] if ci else None, ci[1] if ci else None,
                      p, test, change < -limit and significant, change > limit and significant, "; ".join(notes),
                      unit)


def compare_documents(base: Document, new: Document, threshold: float = 0.05,
                      per_workload: dict[str, float] | None = None, alpha: float = 0.05) -> list[Comparison]:
    """Match runs of ``base`` and ``new`` by workload, device and params and compare them.

    ``threshold`` is the relative slowdown (0.05 = 5 %) that counts as a regression,
    overridden per workload name by ``per_workload``. Runs present in only one file
    are reported with a note and never count as regressions.
    """
    per_workload = per_workload or {}
    out: list[Comparison] = []
    for key, b, n, pair_note in _pairs({_key(r): r for r in base.runs}, {_key(r): r for r in new.runs}):
        if b is None or n is None:
            run = n or b
            assert run is not None
            out.append(Comparison(key[0], key[1], run.params, b.throughput.rate if b else None,
                                  n.throughput.rate if n else None, None, None, None, None, "none", False, False,
                                  pair_note, f"{run.unit}/s"))
            continue
        comp = compare_runs(b, n, per_workload.get(key[0], threshold), alpha, pair_note)
        busy = [side for side, run in (("base", b), ("new", n)) if run.contention is not None and run.contention.contended]
        if busy:  # a busy machine's figure is not the machine's own: shown, never a verdict
            note = f"not judged: {' and '.join(busy)} measured on a busy machine (contended)"
            comp = replace(comp, regression=False, improvement=False, note="; ".join(filter(None, [comp.note, note])))
        out.append(comp)
    return out


def not_judged(comparisons: list[Comparison], why: str) -> list[Comparison]:
    """``comparisons`` shown but not judged (no regression, no improvement), each saying ``why``."""
    return [replace(c, regression=False, improvement=False, note="; ".join(filter(None, [c.note, f"not judged: {why}"])))
            for c in comparisons]


def parse_workload_thresholds(items: list[str]) -> dict[str, float]:
    """``["NAME=PCT", ...]`` -> ``{NAME: fraction}``.

    Raises:
        UsageError: naming the item that is not ``NAME=PCT`` with PCT >= 0.
    """

    per: dict[str, float] = {}
    for item in items:
        name, _, pct = item.partition("=")
        try:
            value = float(pct)
        except ValueError:
            value = -1.0
        if not name or not 0 <= value < math.inf:
            raise UsageError(f"--workload-threshold {item!r}: expected NAME=PCT with PCT >= 0")
        per[name] = value / 100
    return per


def format_table(comparisons: list[Comparison]) -> Any:
    """A rich Table of ``comparisons``: the base and new throughput in their units (the header names the unit,
    and each cell prints it with an SI prefix: ``57.86 MH/s``), the change, its interval, p and the verdict."""
    from rich.table import Table


    def rate(v: float | None, unit: str) -> str:
        if v is None:
            return "-"
        short = {"hash/s": "H/s", "token/s": "tok/s"}.get(unit, unit)
        return units.si(v, short, digits=4)

    seen = ", ".join(cut(u, 40) for u in dict.fromkeys(c.unit for c in comparisons if c.unit)) or "units/s"
    table = Table(title="compare (throughput over the measured windows)")
    for col in ("workload", "device", "params", f"base ({seen})", f"new ({seen})", "change", "new/base 95% CI",
                "p (Mann-Whitney U)", "verdict"):
        table.add_column(col)
    for c in comparisons:
        verdict = "[red]REGRESSION[/red]" if c.regression else "[green]improvement[/green]" if c.improvement else "ok"
        if c.note:
            verdict += f"\n[dim]{cut(c.note, 300)}[/dim]"
        table.add_row(cut(c.workload), cut(c.device, 40), cut(json.dumps(c.params, sort_keys=True), 80),
                      rate(c.base, c.unit), rate(c.new, c.unit),
                      "-" if c.change is None else f"{c.change:+.1%}",
                      "-" if c.ratio_low is None or c.ratio_high is None else f"{c.ratio_low:.3f} - {c.ratio_high:.3f}",
                      "-" if c.p_value is None else f"{c.p_value:.3g}", verdict)
    return table
