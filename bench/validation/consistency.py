"""Checks that recompute summary figures from the raw samples of each measured run."""

from __future__ import annotations

import math
from typing import Any

from bench.validation.core import Finding, check, is_declared

REL_TOL = 1e-6
MIN_READINGS = 10


def _close(a: Any, b: float) -> bool:
    return isinstance(a, (int, float)) and math.isclose(float(a), b, rel_tol=REL_TOL, abs_tol=1e-9)


def _measured_runs(doc: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    if is_declared(doc):
        return []
    return [(i, r) for i, r in enumerate(doc.get("runs") or [])
            if isinstance(r, dict) and r.get("status", "ok") == "ok"]


@check("samples")
def samples_match(doc: dict[str, Any]) -> list[Finding]:
    """``throughput.samples`` == units / durations, summary == bench.stats.summarize(samples)."""
    from bench.stats import summarize

    out: list[Finding] = []
    for i, run in _measured_runs(doc):
        t = run.get("throughput") or {}
        base = f"$.runs[{i}].throughput"
        units, durs, samples = t.get("units") or [], t.get("durations_s") or [], t.get("samples") or []
        if not samples:
            out.append(Finding("samples", f"{base}.samples", "no raw samples in a measured run"))
            continue
        if len(units) != len(samples) or len(durs) != len(samples):
            out.append(Finding("samples", base, f"{len(samples)} samples but {len(units)} units and {len(durs)} durations"))
            continue
        for j, (u, d, s) in enumerate(zip(units, durs, samples)):
            if not isinstance(d, (int, float)) or d <= 0:
                out.append(Finding("samples", f"{base}.durations_s[{j}]", "duration must be > 0"))
            elif not _close(s, float(u) / float(d)):
                out.append(Finding("samples", f"{base}.samples[{j}]", f"{s} != units/duration = {float(u) / float(d)}"))
        if any(f.check == "samples" and f.path.startswith(base) for f in out):
            continue
        summary = summarize([float(s) for s in samples])
        for k in ("median", "p10", "p90", "cv"):
            if k in t and summary[k] is not None and not _close(t[k], summary[k]):
                out.append(Finding("samples", f"{base}.{k}", f"{t[k]} != {summary[k]} recomputed from samples"))
    return out


@check("efficiency")
def efficiency_matches(doc: dict[str, Any]) -> list[Finding]:
    """``efficiency.per_joule`` == sum(units) / energy, ``ceiling_fraction`` == median / ceiling."""
    out: list[Finding] = []
    for i, run in _measured_runs(doc):
        t, p, e = run.get("throughput") or {}, run.get("power") or {}, run.get("efficiency") or {}
        energy = p.get("energy_j")
        per_j = e.get("per_joule")
        if isinstance(energy, (int, float)) and energy > 0 and per_j is not None and t.get("units"):
            want = sum(float(u) for u in t["units"]) / float(energy)
            if not _close(per_j, want):
                out.append(Finding("efficiency", f"$.runs[{i}].efficiency.per_joule", f"{per_j} != sum(units)/energy_j = {want}"))
        ceiling, frac, med = run.get("ceiling"), run.get("ceiling_fraction"), t.get("median")
        if isinstance(ceiling, (int, float)) and ceiling > 0 and frac is not None and isinstance(med, (int, float)):
            if not _close(frac, float(med) / float(ceiling)):
                out.append(Finding("efficiency", f"$.runs[{i}].ceiling_fraction", f"{frac} != median/ceiling = {med / ceiling}"))
    return out


@check("power")
def power_consistent(doc: dict[str, Any]) -> list[Finding]:
    """avg_w == energy / window, enough meter readings in the measured window."""
    out: list[Finding] = []
    for i, run in _measured_runs(doc):
        p = run.get("power") or {}
        base = f"$.runs[{i}].power"
        energy, window, avg = p.get("energy_j"), p.get("window_s"), p.get("avg_w")
        if isinstance(energy, (int, float)) and isinstance(window, (int, float)) and window > 0 and avg is not None:
            # avg_w comes from the meter's own duration, a few timer reads off window_s
            if not (isinstance(avg, (int, float)) and math.isclose(avg, energy / window, rel_tol=1e-3, abs_tol=1e-6)):
                out.append(Finding("power", f"{base}.avg_w", f"{avg} != energy_j/window_s = {energy / window}"))
        primary = set(str(p.get("scope") or "").split("+"))
        for k, m in enumerate(p.get("meters") or []):
            if not isinstance(m, dict):
                continue
            n = m.get("readings")
            if m.get("valid") is False:  # refused by the harness itself: only its use for sizing is wrong
                if m.get("scope") in primary and p.get("valid_for_sizing") is True:
                    out.append(Finding("power", f"{base}.valid_for_sizing",
                                       f"meters[{k}] ({m.get('name')}) was refused but the run is marked valid for sizing"))
            elif isinstance(n, int) and n < MIN_READINGS:
                out.append(Finding("power", f"{base}.meters[{k}].readings", f"{n} readings, need >= {MIN_READINGS}"))
    return out


@check("phases")
def phases_monotonic(doc: dict[str, Any]) -> list[Finding]:
    """Phases start after they end nowhere, and follow each other in time."""
    out: list[Finding] = []
    for i, run in _measured_runs(doc):
        last = -math.inf
        for j, ph in enumerate(run.get("phases") or []):
            s, e = (ph.get("start"), ph.get("end")) if isinstance(ph, dict) else (None, None)
            if not isinstance(s, (int, float)) or not isinstance(e, (int, float)):
                continue
            if e < s or s < last:
                out.append(Finding("phases", f"$.runs[{i}].phases[{j}]", f"phase {ph.get('name')!r} not monotonic ({s}..{e} after {last})"))
            last = max(last, float(e))
    return out
