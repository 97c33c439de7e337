"""The report's sections, assembled into one self-contained HTML page."""

from __future__ import annotations

import string
import time
from typing import Any

from bench import units
from bench.report import model, plots
from bench.report.page import card, esc, figure, kv, page, section, table


def _verified(refs: list[model.RunRef]) -> tuple[str, str]:
    ok = sum(1 for r in refs if r.run.get("verified") and r.run.get("status") == "ok")
    return f"{ok} of {len(refs)}", "ok" if refs and ok == len(refs) else "bad"


def _mw_text(alloc: dict[str, Any] | None, unit: str) -> str:
    if alloc is None:
        return "-"
    scale, label = units.throughput_per_mw_unit(unit)
    return f"{alloc['mw_per_unit_per_s'] * scale:.4g} MW per {label}"


def summary(sources: list[model.Source], refs: list[model.RunRef], mw: float, pue: float) -> str:
    """Systems, verified, signed, measurement quality, and the headline per workload."""
    systems = sorted({r.run.get("node") or r.source.hostname for r in refs} | {s.hostname for s in sources})
    verified, vcls = _verified(refs)
    signed = sum(1 for s in sources if s.doc.get("signature"))
    quals = [model.quality(r.run) for r in refs]
    measured = sum(1 for q in quals if q.startswith("measured"))
    qcls = "ok" if refs and measured == len(refs) else "warn"
    cards = "".join([
        card("systems", str(len(systems)), ", ".join(systems)[:120]),
        card("runs verified", verified, "checked against an independent reference", vcls),
        card("files signed", f"{signed} of {len(sources)}", "Ed25519 signature present (check with sitebench validate)",
             "ok" if signed == len(sources) else "warn"),
        card("power measured", f"{measured} of {len(refs)} runs",
             "others modelled or missing: MW figures are estimates" if measured < len(refs) else "metered", qcls),
    ])
    rows = []
    for r in refs:
        run = r.run
        unit = run.get("unit", "?")
        power = run.get("power") or {}
        rows.append([
            esc(run.get("workload", "?")), esc(r.label),
            esc(units.rate((run.get("throughput") or {}).get("median"), unit)),
            esc(units.watts(power.get("avg_w"))),
            esc(units.efficiency((run.get("efficiency") or {}).get("per_joule"), unit)),
            esc(f"{r.sizing['machines']:,.0f}" if r.sizing else "-"),
            esc(units.rate(r.sizing["throughput"], unit) if r.sizing else "-"),
            esc(_mw_text(r.sizing, unit)),
            _quality_cell(model.quality(run)),
        ])
    head = table(["workload", "system", "throughput", "avg W", "efficiency", f"units in {mw:g} MW",
                  f"throughput in {mw:g} MW", "facility MW per", "power"], rows, numeric={2, 3, 4, 5, 6, 7})
    note = (f'<p class="note">Allocation: {esc(f"{mw:g}")} MW of facility power at PUE {esc(f"{pue:g}")} '
            f'= {esc(f"{mw / pue:.4g}")} MW of IT power; node overhead not included. Throughput is the median '
            f'of the measured windows.</p>')
    return section("summary", "Summary", f'<div class="cards">{cards}</div>' + "<h3>Headline per workload</h3>" + head + note)


def _quality_cell(q: str) -> str:
    cls = "ok" if q.startswith("measured") else "warn" if q == "MODELLED" else "bad"
    return f'<span class="{cls}">{esc(q)}</span>'


def plots_section(refs: list[model.RunRef], mw: float, pue: float) -> str:
    """Efficiency per system, sizing per hardware option, and per-run timelines."""
    body = figure("Efficiency per system (bars: median; whiskers: p10-p90 throughput at the average power; "
                  "orange: power modelled)", plots.efficiency_bars([model.efficiency_row(r) for r in refs]),
                  "no run has an efficiency figure (no power recorded)")
    size_rows = [{"label": r.label, "workload": r.run.get("workload", "?"), "unit": r.run.get("unit", "?"),
                  "throughput": r.sizing["throughput"], "measured": r.sizing["measured"]}
                 for r in refs if r.sizing]
    body += figure(f"What {mw:g} MW at PUE {pue:g} buys per hardware option", plots.sizing_bars(size_rows, mw, pue),
                   "no run has both throughput and power, so no sizing")
    for r in refs:
        run = r.run
        cap = f"{run.get('workload', '?')} on {r.label}: power over time (phases shaded), throughput per window"
        if plots.telemetry_series(run):
            cap += ", GPU telemetry"
        else:
            cap += " (GPU clocks and temperature: not recorded)"
        body += figure(cap, plots.run_timeline(run), "no power trace and no per-window throughput recorded")
    return section("plots", "Plots", body)


def runs_section(refs: list[model.RunRef]) -> str:
    """Every run's details."""
    rows = []
    for r in refs:
        run = r.run
        thr = run.get("throughput") or {}
        power = run.get("power") or {}
        unit = run.get("unit", "?")
        cv = thr.get("cv")
        frac = run.get("ceiling_fraction")
        status = run.get("status", "?")
        rows.append([
            esc(r.label), esc(run.get("workload", "?")),
            esc(", ".join(f"{k}={v}" for k, v in (run.get("params") or {}).items())),
            esc(units.rate(thr.get("median"), unit)),
            esc(f"{units.rate(thr.get('p10'), unit)} – {units.rate(thr.get('p90'), unit)}"),
            esc(f"{cv:.1%}" if isinstance(cv, (int, float)) else "-"),
            esc(units.watts(power.get("idle_w"))), esc(units.watts(power.get("avg_w"))),
            esc(units.watts(power.get("peak_w"))),
            esc(units.efficiency((run.get("efficiency") or {}).get("per_joule"), unit)),
            esc(f"{frac:.1%}" if isinstance(frac, (int, float)) else "-"),
            '<span class="ok">yes</span>' if run.get("verified") else '<span class="bad">no</span>',
            esc(status) if status == "ok" else f'<span class="bad">{esc(status)}</span>'
            + (f"<br><span class=\"note\">{esc(run.get('error'))}</span>" if run.get("error") else ""),
        ])
    body = table(["system", "workload", "params", "median", "p10 – p90", "cv", "idle W", "avg W", "peak W",
                  "efficiency", "of ceiling", "verified", "status"], rows, numeric={3, 4, 5, 6, 7, 8, 9, 10})
    meters = []
    for r in refs:
        for m in (r.run.get("power") or {}).get("meters") or []:
            if isinstance(m, dict):
                acc = m.get("accuracy")
                meters.append([esc(r.label), esc(r.run.get("workload", "?")), esc(m.get("name", "?")),
                               esc(m.get("scope", "?")), esc(m.get("method", "?")),
                               esc(f"±{acc:.0%}" if isinstance(acc, (int, float)) else "-"),
                               esc(m.get("accuracy_note", "")), esc(m.get("readings", "-")),
                               esc(len(m.get("gaps") or []))])
    if meters:
        body += "<h3>Power meters</h3>" + table(["system", "workload", "meter", "scope", "method", "accuracy", "note",
                                                  "readings", "gaps"], meters, numeric={7, 8})
    return section("runs", "Runs", body)


def fleet_section(sources: list[model.Source]) -> str:
    """Per GPU of every fleet file (runs with a ``rank``), outliers highlighted; empty when none."""
    parts = []
    for src in sources:
        runs = [(i, r) for i, r in enumerate(src.doc.get("runs") or []) if isinstance(r, dict) and "rank" in r]
        if not runs:
            continue
        flagged = model.outliers(src)
        rows, classes = [], []
        for i, run in sorted(runs, key=lambda p: (str(p[1].get("workload")), p[1]["rank"])):
            reasons = flagged.get(model.run_key(src, run, i), [])
            unit = run.get("unit", "?")
            rows.append([esc(run.get("workload", "?")), esc(run["rank"]), esc(run.get("node") or src.hostname),
                         esc(run.get("local_device") or run.get("device", "?")),
                         esc(units.rate((run.get("throughput") or {}).get("median"), unit)),
                         esc(units.watts((run.get("power") or {}).get("avg_w"))),
                         esc(units.efficiency((run.get("efficiency") or {}).get("per_joule"), unit)),
                         f'<span class="bad">OUTLIER</span> {esc("; ".join(reasons))}' if reasons else "ok"])
            classes.append("outlier" if reasons else "")
        fleet = src.doc.get("fleet") or {}
        lost = fleet.get("lost_ranks") or []
        head = (f"<h3>[{esc(src.tag)}] {esc(src.path)}: world size {esc(fleet.get('world_size', len(runs)))}"
                + (f', <span class="bad">lost ranks {esc(", ".join(map(str, lost)))}</span>' if lost else "")
                + "</h3>")
        parts.append(head + table(["workload", "rank", "node", "device", "throughput", "avg W", "efficiency",
                                   "verdict"], rows, numeric={1, 4, 5, 6}, row_classes=classes))
    if not parts:
        return ""
    note = ('<p class="note">Outlier: below the fleet median by more than 3 x MAD and 5% '
            '(bench.fleet.outliers).</p>')
    return section("fleet", "Per GPU (fleet)", "".join(parts) + note)


def validation_section(sources: list[model.Source]) -> str:
    """Findings of ``bench.validation`` (or schema errors) per file."""
    body = ""
    for src in sources:
        found = model.findings(src.doc)
        if not found:
            body += f'<h3>[{esc(src.tag)}] {esc(src.path)}</h3><p class="ok">no findings</p>'
            continue
        rows = [[f'<span class="{"bad" if lvl == "error" else "warn"}">{esc(lvl)}</span>', esc(chk), esc(p), esc(m)]
                for lvl, chk, p, m in found]
        body += f"<h3>[{esc(src.tag)}] {esc(src.path)}</h3>" + table(["level", "check", "where", "finding"], rows)
    return section("validation", "Validation findings", body)


def systems_section(sources: list[model.Source]) -> str:
    """The full system description and settings of every file."""
    body = ""
    for src in sources:
        doc = src.doc
        meta = {"file": src.path, "id": doc.get("id"), "created": doc.get("created"),
                "source": doc.get("source", "measured"), "harness": doc.get("harness"),
                "submitter": doc.get("submitter"),
                "signature": {"alg": doc["signature"].get("alg"), "key_id": doc["signature"].get("key_id")}
                if isinstance(doc.get("signature"), dict) else "not signed"}
        body += (f"<h3>[{esc(src.tag)}] {esc(src.hostname)}</h3>{kv(meta)}"
                 f"<details open><summary>system</summary>{kv(doc.get('system') or {})}</details>"
                 f"<details><summary>settings</summary>{kv(doc.get('settings') or {})}</details>")
    return section("systems", "Systems", body)


def files_section(sources: list[model.Source]) -> str:
    """Which file is which tag, shown when several files sit side by side."""
    rows = [[esc(s.tag), esc(s.path), esc(s.hostname), esc(s.doc.get("source", "measured")),
             esc(s.doc.get("created", "?")), esc(len(s.doc.get("runs") or []))] for s in sources]
    return section("files", "Files side by side",
                   table(["tag", "file", "system", "source", "created", "runs"], rows, numeric={5}))


def render(files: list[tuple[str, dict[str, Any]]], *, mw: float = 1.0, pue: float = 1.0,
           title: str = "Site qualification report") -> str:
    """The report for ``(path, document)`` pairs as one self-contained HTML string."""
    tags = string.ascii_uppercase
    sources = [model.Source(p, d, tags[i] if i < len(tags) else str(i + 1)) for i, (p, d) in enumerate(files)]
    refs = model.collect(sources)
    for r in refs:
        r.sizing = model.allocation(r.run, mw, pue)
    body = summary(sources, refs, mw, pue)
    if len(sources) > 1:
        body += files_section(sources)
    body += plots_section(refs, mw, pue) + runs_section(refs) + fleet_section(sources)
    body += validation_section(sources) + systems_section(sources)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    sub = f"{len(sources)} result file(s), {len(refs)} run(s); generated {stamp}"
    return page(title, sub, body)
