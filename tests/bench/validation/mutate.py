"""A seeded mutator of result files, and an independent recomputation of their figures.

Used by the CI-sized fuzz test and by ``benchmarks/validate_fuzz.py`` (10,000 files). Three kinds of
mutation: random damage (fields deleted, set to wrong types or extremes, numbers nudged, keys doubled,
the text truncated); blocks removed (phases, the measured windows, meters, traces, window energies,
raw samples); and consistent forgeries (energy, units or durations scaled in every field that holds
them, the raw readings sometimes with them). :func:`disagreements` is the oracle: every figure an
accepted file holds must equal its recomputation from the raw samples, and a power figure that
cannot be recomputed (no windows, no trace) is itself a disagreement.
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np

WRONG = [None, True, "x", "1e999", "", [], {}, -1, -1.0, 0, 1e308, -1e308, 2**70, "\u0000", "\ud800",
         "h" * 5000, [1, 2, 3], {"a": 1}]
#: Factors of the consistent forgeries: each far outside any measurement tolerance.
FACTORS = [0.5, 2.0, 0.25, 10.0]
STATS = ("rate", "median", "p10", "p90", "mean", "min", "max")


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:6]):  # a few items of a long series are enough
            out += _leaves(v, (*path, i))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    node = doc
    for p in path[:-1]:
        node = node[p]
    return node, path[-1]


def _damage(doc: dict[str, Any], rng: random.Random) -> None:
    """One to three random changes: a field deleted, set to a wrong type or an extreme, a number nudged,
    an item of a list dropped."""
    paths = [p for p in _leaves(doc) if p]
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths)
        try:  # an earlier mutation may have replaced a node on this path
            parent, key = _parent(doc, path)
            op = rng.random()
            if op < 0.25 and isinstance(parent, dict):
                parent.pop(key, None)
            elif op < 0.6:
                parent[key] = rng.choice(WRONG)
            elif op < 0.85 and isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
                parent[key] = parent[key] * rng.choice([-1, 0, 0.5, 1.000001, 2, 1e6])
            elif isinstance(parent[key], list) and parent[key]:
                del parent[key][rng.randrange(len(parent[key]))]
        except (KeyError, IndexError, TypeError):
            continue


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _scale(block: Any, key: str, k: float) -> None:
    if isinstance(block, dict) and _num(block.get(key)):
        block[key] = block[key] * k


def _scale_list(block: Any, key: str, k: float) -> None:
    if isinstance(block, dict) and isinstance(block.get(key), list):
        block[key] = [v * k if _num(v) else v for v in block[key]]


def _scale_trace(block: Any, key: str, k: float, column: int) -> None:
    if isinstance(block, dict) and isinstance(block.get(key), list):
        for pt in block[key]:
            if isinstance(pt, list) and len(pt) == 2 and _num(pt[column]):
                pt[column] = pt[column] * k


def _meters(run: dict[str, Any]) -> list[Any]:
    m = run.get("power", {}).get("meters")
    return [x for x in m if isinstance(x, dict)] if isinstance(m, list) else []


# -- blocks removed ---------------------------------------------------------------------------------

def _drop_phases(run: dict[str, Any], rng: random.Random) -> None:
    if rng.random() < 0.5:
        run.pop("phases", None)
    else:
        run["phases"] = []


def _drop_windows(run: dict[str, Any], rng: random.Random) -> None:
    if isinstance(run.get("phases"), list):
        run["phases"] = [p for p in run["phases"] if not (isinstance(p, dict) and
                                                          str(p.get("name", "")).startswith("window-"))]


def _drop_meters(run: dict[str, Any], rng: random.Random) -> None:
    power = run.get("power", {})
    if rng.random() < 0.5:
        power.pop("meters", None)
    else:
        power["meters"] = []


def _drop_run_trace(run: dict[str, Any], rng: random.Random) -> None:
    run.get("power", {}).pop("trace", None)


def _drop_meter_traces(run: dict[str, Any], rng: random.Random) -> None:
    for m in _meters(run):
        m.pop("trace", None) if rng.random() < 0.5 else m.update(trace=[])


def _drop_window_energies(run: dict[str, Any], rng: random.Random) -> None:
    run.get("power", {}).pop("window_energy_j", None)


def _drop_samples(run: dict[str, Any], rng: random.Random) -> None:
    t = run.get("throughput", {})
    for key in rng.sample(["samples", "units", "durations_s"], rng.randint(1, 3)):
        t.pop(key, None)


def _drop_power(run: dict[str, Any], rng: random.Random) -> None:
    """The whole power block replaced by "no power" (and the efficiency with it): honest-looking."""
    run["power"] = {"measured": False, "valid_for_sizing": False, "invalid_reasons": ["no power measured"]}
    run.get("efficiency", {}).pop("per_joule", None)


REMOVALS: list[Callable[[dict[str, Any], random.Random], None]] = [
    _drop_phases, _drop_windows, _drop_meters, _drop_run_trace, _drop_meter_traces, _drop_window_energies,
    _drop_samples, _drop_power]


# -- consistent forgeries ---------------------------------------------------------------------------

def _forge_energy(run: dict[str, Any], rng: random.Random) -> None:
    """Energy x k in every field that holds it (and the readings with it, sometimes)."""
    k = rng.choice(FACTORS)
    p = run.get("power", {})
    for key in ("energy_j", "avg_w"):
        _scale(p, key, k)
    _scale_list(p, "window_energy_j", k)
    for m in _meters(run):
        for key in ("energy_j", "avg_w"):
            _scale(m, key, k)
    _scale(run.get("efficiency"), "per_joule", 1 / k)
    if rng.random() < 0.4:  # the raw readings too: consistent with itself, the recomputation agrees
        for block in (p, *_meters(run)):
            for key in ("peak_w", "idle_before_w", "idle_after_w"):
                _scale(block, key, k)
            _scale_trace(block, "trace", k, 1)


def _forge_units(run: dict[str, Any], rng: random.Random) -> None:
    """Units x k in every field that holds them, the raw units included."""
    k = rng.choice(FACTORS)
    t = run.get("throughput", {})
    for key in STATS:
        _scale(t, key, k)
    for key in ("units", "samples"):
        _scale_list(t, key, k)
    _scale(run.get("efficiency"), "per_joule", k)
    _scale(run, "ceiling_fraction", k)


def _forge_durations(run: dict[str, Any], rng: random.Random) -> None:
    """Durations x k: the samples, the statistics and the power average with them (the phases and the
    traces' times sometimes too)."""
    k = rng.choice(FACTORS)
    t, p = run.get("throughput", {}), run.get("power", {})
    _scale_list(t, "durations_s", k)
    _scale_list(t, "samples", 1 / k)
    for key in STATS:
        _scale(t, key, 1 / k)
    _scale(run, "ceiling_fraction", 1 / k)
    _scale(p, "window_s", k)
    _scale(p, "avg_w", 1 / k)
    if rng.random() < 0.4:
        for ph in run.get("phases", []) if isinstance(run.get("phases"), list) else []:
            if isinstance(ph, dict):
                _scale(ph, "start", k)
                _scale(ph, "end", k)
        for block in (p, *_meters(run)):
            _scale_trace(block, "trace", k, 0)


FORGERIES: list[Callable[[dict[str, Any], random.Random], None]] = [_forge_energy, _forge_units, _forge_durations]


def _structured(doc: dict[str, Any], rng: random.Random) -> None:
    """Blocks removed and/or a consistent forgery, in one run or in every run."""
    runs = [r for r in doc.get("runs", []) if isinstance(r, dict)]
    if not runs:
        return
    chosen = runs if rng.random() < 0.5 else [rng.choice(runs)]
    removals = rng.sample(REMOVALS, rng.choice([0, 1, 1, 2]))
    forgery = rng.choice(FORGERIES) if not removals or rng.random() < 0.6 else None
    for run in chosen:
        for op in removals:
            op(run, rng)
        if forgery is not None:
            forgery(run, rng)


def mutate(doc: dict[str, Any], rng: random.Random) -> str:
    """A mutated copy of ``doc`` as file text: random damage, blocks removed, consistent forgeries (or
    several), keys doubled, the text truncated."""
    doc = copy.deepcopy(doc)
    roll = rng.random()
    if roll < 0.5:
        _damage(doc, rng)
    else:
        _structured(doc, rng)
        if roll > 0.9:
            _damage(doc, rng)
    text = json.dumps(doc)
    roll = rng.random()
    if roll < 0.05:
        text = text[: rng.randrange(len(text))]
    elif roll < 0.1:
        text = text.replace('"source": "measured"', '"source": "declared", "source": "measured"', 1)
    return text


# -- the oracle -------------------------------------------------------------------------------------

def _close(a: float | None, b: float | None, rel: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


#: Energy from a meter and from the trapezoid of its readings may differ by this fraction, plus what one
#: reading period (and the rounding of phase times) at the highest power can hold at each edge.
TRACE_REL = 0.10
EDGE_S = 3e-3


def _trapezoid(trace: list[list[float]], a: float, b: float) -> float:
    """Integral of the piecewise-linear trace over [a, b] (inside the trace's span)."""
    arr = np.asarray(trace, dtype=float)
    t, w = arr[:, 0], arr[:, 1]
    grid = np.concatenate([[a], t[(t > a) & (t < b)], [b]])
    vals = np.interp(grid, t, w)
    return float(np.trapezoid(vals, grid))


def _energy_agrees(trace: list[list[float]], a: float, b: float, energy: float, period: float,
                   need_cover: bool) -> str | None:
    """Why ``energy`` is not the trace's integral over [a, b] (None when it is)."""
    if len(trace) < 2:
        return "no trace to recompute it from"
    t0, t1 = trace[0][0], trace[-1][0]
    edge = period + EDGE_S
    if need_cover and (t0 > a + edge or t1 < b - edge):
        return f"the trace ({t0}..{t1} s) does not cover the window ({a}..{b} s)"
    lo, hi = max(a, t0), min(b, t1)
    if hi <= lo:
        return "the trace holds no reading in the window"
    got = _trapezoid(trace, lo, hi)
    peak = max(abs(w) for _, w in trace)
    if abs(got - energy) > TRACE_REL * abs(energy) + 2 * peak * edge:
        return f"{energy:.6g} J against {got:.6g} J from the trace"
    return None


def _power_disagreements(doc: Any, i: int, run: Any) -> list[str]:
    """A run's power figures against the phases, windows and traces it carries."""
    t, p = run.throughput, run.power
    out: list[str] = []
    held = [k for k in ("energy_j", "avg_w", "peak_w", "window_s", "idle_before_w", "idle_after_w")
            if getattr(p, k) is not None]
    held += ["window_energy_j"] if p.window_energy_j else []
    held += ["efficiency"] if run.efficiency.per_joule is not None else []
    held += [f"meters[{k}]" for k, m in enumerate(p.meters) if m.energy_j is not None or m.avg_w is not None]
    if not held:
        return out
    wins = [ph for ph in run.phases if ph.name.startswith("window-")]
    if not wins:
        return [f"runs[{i}].power: {', '.join(held)} without a measured-window phase to recompute it over"]
    if p.energy_j is None:
        return [f"runs[{i}].power: {', '.join(held)} without an energy figure"]
    if len(wins) != len(t.durations_s):
        return [f"runs[{i}]: {len(wins)} window phases, {len(t.durations_s)} durations"]
    out += [f"runs[{i}].throughput.durations_s[{k}]" for k, (d, w) in enumerate(zip(t.durations_s, wins))
            if abs(d - (w.end - w.start)) > EDGE_S]
    a, b = wins[0].start, wins[-1].end
    if p.window_s is None or abs(p.window_s - (b - a)) > EDGE_S + 1e-3 * (b - a):
        out.append(f"runs[{i}].power.window_s: {p.window_s} for windows spanning {b - a}")
    rate = doc.settings.sample_rate_hz if doc.settings else None
    periods = [max(m.update_period_s or 0.0, 1 / rate if rate else 0.0) for m in p.meters if m.energy_j is not None]
    period = max(periods, default=1 / rate if rate else 0.0)
    # the documented exception: a meter refused with a gap in the window cannot be rebuilt from its readings,
    # and a run resting on one must say it is not valid for sizing
    primary = set((p.scope or "").split("+"))
    gapped = {k for k, m in enumerate(p.meters) if not m.valid and m.gaps}
    if not (not p.valid_for_sizing and any(p.meters[k].scope in primary for k in gapped)):
        why = _energy_agrees(p.trace, a, b, p.energy_j, period, p.valid_for_sizing)
        if why:
            out.append(f"runs[{i}].power.energy_j: {why}")
        if p.window_energy_j and len(p.window_energy_j) == len(wins):
            for k, (e, w) in enumerate(zip(p.window_energy_j, wins)):
                why = _energy_agrees(p.trace, w.start, w.end, e, period, False)
                if why:
                    out.append(f"runs[{i}].power.window_energy_j[{k}]: {why}")
    for k, m in enumerate(p.meters):
        if m.energy_j is None or k in gapped:
            continue
        mp = max(m.update_period_s or 0.0, 1 / rate if rate else 0.0)
        why = _energy_agrees(m.trace, a, b, m.energy_j, mp, m.valid)
        if why:
            out.append(f"runs[{i}].power.meters[{k}].energy_j: {why}")
    return out


def disagreements(doc: Any) -> list[str]:
    """Every figure of an accepted document that differs from its own recomputation from the raw samples
    (or cannot be recomputed from what the file carries).

    An implementation of its own (numpy on the typed document), not the validator's.
    """
    if doc.declared:
        return []
    out = []
    for i, run in enumerate(doc.runs):
        t, p = run.throughput, run.power
        if run.status != "ok" and not t.samples and not t.units:
            continue
        u, d = np.array(t.units, dtype=float), np.array(t.durations_s, dtype=float)
        s = np.array(t.samples, dtype=float)
        if len(u) != len(s) or len(d) != len(s) or not len(s):
            out.append(f"runs[{i}]: {len(s)} samples, {len(u)} units, {len(d)} durations")
            continue
        want = {"rate": u.sum() / d.sum(), "median": float(np.median(s)), "p10": float(np.percentile(s, 10)),
                "p90": float(np.percentile(s, 90)), "mean": float(s.mean()), "min": float(s.min()),
                "max": float(s.max())}
        if not np.allclose(s, u / d, rtol=1e-6):
            out.append(f"runs[{i}].samples")
        for key, value in want.items():
            if not _close(getattr(t, key), value):
                out.append(f"runs[{i}].throughput.{key}: {getattr(t, key)} != {value}")
        cv = float(s.std(ddof=1) / s.mean()) if len(s) > 1 and s.mean() else 0.0
        if not _close(t.cv, cv, 1e-4) or t.unstable != (cv > 0.10):
            out.append(f"runs[{i}].throughput.cv/unstable")
        if p.energy_j:
            if not _close(run.efficiency.per_joule, u.sum() / p.energy_j):
                out.append(f"runs[{i}].efficiency.per_joule")
            if p.window_s and p.avg_w is not None and not _close(p.avg_w, p.energy_j / p.window_s, 1e-3):
                out.append(f"runs[{i}].power.avg_w")
            if p.window_energy_j and not _close(sum(p.window_energy_j), p.energy_j, 1e-3):
                out.append(f"runs[{i}].power.window_energy_j")
        elif run.efficiency.per_joule is not None:
            out.append(f"runs[{i}].efficiency.per_joule without an energy figure")
        if run.ceiling and not _close(run.ceiling_fraction, want["rate"] / run.ceiling):
            out.append(f"runs[{i}].ceiling_fraction")
        for k, m in enumerate(p.meters):
            if m.energy_j is not None and m.duration_s and m.avg_w is not None \
                    and not _close(m.avg_w, m.energy_j / m.duration_s):
                out.append(f"runs[{i}].power.meters[{k}].avg_w")
        out += _power_disagreements(doc, i, run)
    return out


#: Figures that size a site: a file accepted with one of them off by more than this from the honest
#: file's is a forgery that got through (or one whose raw samples were forged to match).
HEADLINE = (("throughput", "rate"), ("power", "avg_w"), ("power", "energy_j"), ("efficiency", "per_joule"))
FALSE_REL = 1e-3


def false_figures(doc: Any, truth: dict[str, Any]) -> list[str]:
    """The headline figures of an accepted document that differ from the honest file ``truth`` it was
    mutated from (runs matched by workload and device)."""
    honest = {(r.get("workload"), r.get("device")): r for r in truth.get("runs", [])}
    out = []
    for i, run in enumerate(doc.runs):
        base = honest.get((run.workload, run.device))
        if base is None:
            continue
        for block, key in HEADLINE:
            got, want = getattr(getattr(run, block), key), base.get(block, {}).get(key)
            if got is not None and want is not None and not math.isclose(got, want, rel_tol=FALSE_REL):
                out.append(f"runs[{i}].{block}.{key}: {got:.6g} (honest: {want:.6g})")
    return out
