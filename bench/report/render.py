"""The report's sections, assembled into one self-contained HTML page."""

from __future__ import annotations

import string
import time
from collections import Counter

from bench import units
from bench.record import Document
from bench.report import model, plots
from bench.report.climate import climate_section
from bench.report.envelopes import envelopes_section
from bench.report.miners import miners_section
from bench.report.page import card, esc, figure, kv, nowrap, page, section, table
from bench.report.soak import soak_section
from bench.report.thermal import thermal_section
from bench.sizing.climate.cooling import Cooling
from bench.sizing.climate.year import ClimateYear
from bench.sizing.model import WITH_OVERHEAD, Sized, Skipped, machine_efficiency
from bench.tables import efficiency_header

#: Runs drawn as timelines; a file of a thousand miners gets tables, not a thousand plots.
MAX_TIMELINES = 40


def _run_efficiency(r: model.RunRef) -> str:
    machine = machine_efficiency(r.run, r.source.doc.declared)
    text = units.efficiency(r.run.efficiency.per_joule, r.run.unit)
    return nowrap(text) + (f"; {nowrap(units.efficiency(machine, r.run.unit))} {esc(WITH_OVERHEAD)}" if machine else "")


def _efficiency_cell(s: Sized) -> str:
    text = units.efficiency(s.efficiency, s.unit)
    if s.node_overhead_w:
        text += f" measured; {units.efficiency(s.machine_efficiency, s.unit)} {WITH_OVERHEAD}"
    return esc(text)


def _warn(text: str, unstable: bool) -> str:
    return f'<span class="warn">{esc(text)} (unstable)</span>' if unstable else esc(text)


#: How the systems card names each kind of system measured (``host``, ``declared``, or ``hardware.kind``).
KINDS = {"host": ("host", "hosts"), "declared": ("declared", "declared"), "asic": ("ASIC miner", "ASIC miners"),
         "endpoint": ("served endpoint", "served endpoints")}


def systems_text(systems: list[model.Measured], limit: int = 240) -> str:
    """``1 host: vm; 3 ASIC miners: 2x Bitmain Antminer S19 Pro, MicroBT Whatsminer M50.VH50; 1 declared: ...``:
    hosts first, declared models last, the same model counted once with its number."""
    kinds = sorted(dict.fromkeys(m.kind for m in systems), key=lambda k: (k != "host", k == "declared"))
    parts = []
    for kind in kinds:
        names = Counter(m.name for m in systems if m.kind == kind)
        count = sum(names.values())
        one, many = KINDS.get(kind, (kind, kind))
        parts.append(f"{count} {one if count == 1 else many}: "
                     + ", ".join(f"{n}x {name}" if n > 1 else name for name, n in names.items()))
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(sources: list[model.Source], refs: list[model.RunRef], sized: list[tuple[model.Source, Sized | Skipped]],
            mw: float, pue: float) -> str:
    """Systems, verified, signed, measurement quality, and what the allocation buys per hardware option."""
    systems = model.systems(sources)
    ok = sum(1 for r in refs if r.run.verified and r.run.ok)
    signed = sum(1 for s in sources if s.doc.signature is not None)
    quals = [model.quality(r.run, r.source.doc.declared) for r in refs]
    measured = sum(1 for q in quals if q.startswith("measured"))
    busy = [r for r in refs if r.run.contention is not None and r.run.contention.contended]
    cards = "".join([
        card("systems", str(len(systems)), systems_text(systems)),
        card("runs verified", f"{ok} of {len(refs)}", "checked against an independent reference",
             "ok" if refs and ok == len(refs) else "bad"),
        card("files signed", f"{signed} of {len(sources)}", "Ed25519 signature present (check with sitebench validate)",
             "ok" if signed == len(sources) else "warn"),
        card("power measured", f"{measured} of {len(refs)} runs",
             "others declared, modelled or missing" if measured < len(refs) else "metered",
             "ok" if refs and measured == len(refs) else "warn"),
        card("contended", f"{len(busy)} of {len(refs)} runs",
             "measured on a busy machine (other processes, steal or throttling): not the machine's own figures",
             "bad") if busy else "",
    ])
    rows: dict[bool, list[list[str]]] = {False: [], True: []}
    skipped = []
    for src, s in sized:
        if isinstance(s, Skipped):
            skipped.append(f"[{src.tag}] {s.workload} on {s.system}: {s.reason}")
            continue
        scale, per = units.throughput_per_mw_unit(s.unit)
        tag = "declared" if s.source == "declared" else "MODELLED" if s.modelled else "measured"
        rows[s.source == "declared"].append([
            esc(s.workload), esc(f"[{src.tag}] {s.system}" if len(sources) > 1 else s.system),
            _warn(units.rate(s.throughput_per_machine, s.unit), s.unstable),
            esc(units.watts(s.power_w_per_machine)), _efficiency_cell(s),
            esc(f"{s.machines:,.0f}"), esc(units.rate(s.throughput, s.unit)),
            esc(f"{s.mw_per_throughput * scale:.4g} per {per}"),
            f'<span class="{"ok" if tag == "measured" else "warn"}">{esc(tag)}</span>',
        ])
    columns = ["workload", "system", "throughput", "power per machine",
               efficiency_header(s.unit for _, s in sized if isinstance(s, Sized)), "machines", "throughput",
               "facility MW", "power source"]
    head = ""
    for declared, heading in ((False, "Measured"), (True, "Declared (vendor figures, not measured)")):
        if rows[declared]:
            head += f"<h4>{heading}</h4>" + table(columns, rows[declared], numeric={2, 3, 5, 6, 7})
    note = (f'<p class="note">{esc(f"{mw:g}")} MW of facility power at PUE {esc(f"{pue:g}")} '
            f'({esc(f"{mw / pue:.4g}")} MW IT), sized as sitebench size does: throughput over the measured '
            'windows, power per machine with the node overhead of components-only runs, whole machines.</p>')
    if skipped:
        note += '<p class="note">Not sized: ' + "; ".join(esc(x) for x in skipped[:50]) + "</p>"
    return section("summary", "Summary", f'<div class="cards">{cards}</div><h3>What the allocation buys</h3>'
                   + head + note)


def plots_section(refs: list[model.RunRef], sized: list[tuple[model.Source, Sized | Skipped]], mw: float,
                  pue: float) -> str:
    """Efficiency and sizing per hardware option, and per-run timelines."""
    rows = [(s.system, s) for _, s in sized if isinstance(s, Sized)]
    body = figure("Energy per unit of work per hardware option, J/TH or J/token, lower is better (whiskers: bounds "
                  "from window spread and meter accuracy; "
                  "grey: declared, orange: power modelled)", plots.efficiency_bars(rows),
                  "no run could be sized (no power, or refused)")
    body += figure(f"What {mw:g} MW at PUE {pue:g} buys per hardware option", plots.sizing_bars(rows),
                   "no run has both throughput and power, so no sizing")
    workloads = {s.workload for _, s in rows}
    if len(workloads) > plots.MAX_PANELS or any(sum(s.workload == w for _, s in rows) > plots.MAX_BARS
                                                for w in workloads):
        body += (f'<p class="note">Plots show at most {plots.MAX_BARS} options for each of {plots.MAX_PANELS} '
                 "workloads; the summary table holds every one.</p>")
    for r in refs[:MAX_TIMELINES]:
        cap = f"{r.run.workload} on {r.label}: power over time (phases shaded), throughput per window"
        cap += ", telemetry" if plots.telemetry_series(r.run) else " (GPU clocks and temperature: not recorded)"
        body += figure(cap, plots.run_timeline(r.run), "no power trace and no per-window throughput recorded")
    if len(refs) > MAX_TIMELINES:
        body += f'<p class="note">Timelines of the first {MAX_TIMELINES} of {len(refs)} runs.</p>'
    return section("plots", "Plots", body)


def runs_section(refs: list[model.RunRef]) -> str:
    """Every run's figures and meters."""
    rows = []
    for r in refs:
        run, thr, power = r.run, r.run.throughput, r.run.power
        status = esc(run.status) if run.ok else f'<span class="bad">{esc(run.status)}</span>'
        if run.error:
            status += f'<br><span class="note">{esc(run.error)}</span>'
        if run.contention is not None and run.contention.contended:
            status += (f'<br><span class="warn">CONTENDED</span> <span class="note">'
                       f'{esc("; ".join(run.contention.reasons))}</span>')
        rows.append([
            esc(r.label), esc(run.workload), esc(", ".join(f"{k}={v}" for k, v in run.params.items())),
            _warn(units.rate(thr.rate, run.unit), thr.unstable),
            f"{nowrap(units.rate(thr.p10, run.unit))} – {nowrap(units.rate(thr.p90, run.unit))}",
            esc(f"{thr.cv:.1%}" if thr.cv is not None else "-"),
            esc(units.watts(power.idle_before_w)), esc(units.watts(power.avg_w)), esc(units.watts(power.peak_w)),
            _run_efficiency(r),
            esc(f"{run.ceiling_fraction:.1%}" if run.ceiling_fraction is not None else "-"),
            '<span class="ok">yes</span>' if run.verified else '<span class="bad">no</span>', status,
        ])
    body = table(["system", "workload", "params", "throughput", "p10 – p90", "cv", "idle W", "avg W", "peak W",
                  efficiency_header(r.run.unit for r in refs), "of ceiling", "verified", "status"], rows,
                 numeric={3, 4, 5, 6, 7, 8, 9, 10},
                 wrap={4, 9})
    meters = [[esc(r.label), esc(r.run.workload), esc(m.name), esc(m.scope), esc(m.method),
               esc(f"±{m.accuracy:.0%}" if m.accuracy is not None else "-"), esc(m.accuracy_note),
               esc(m.readings if m.readings is not None else "-"), esc(len(m.gaps))]
              for r in refs for m in r.run.power.meters]
    if meters:
        body += "<h3>Power meters</h3>" + table(["system", "workload", "meter", "scope", "method", "accuracy", "note",
                                                  "readings", "gaps"], meters, numeric={7, 8})
    return section("runs", "Runs", body)


def fleet_section(sources: list[model.Source]) -> str:
    """Per GPU of every fleet file (runs with a ``rank``), outliers highlighted; empty when none."""
    parts = []
    for src in sources:
        runs = [(i, r) for i, r in enumerate(src.doc.runs) if r.rank is not None]
        if not runs:
            continue
        flagged = model.outliers(src)
        rows, classes = [], []
        for i, run in sorted(runs, key=lambda p: (p[1].workload, p[1].rank or 0)):
            reasons = flagged.get(model.run_key(src, run, i), [])
            rows.append([esc(run.workload), esc(run.rank), esc(run.node or src.hostname),
                         esc(run.local_device or run.device), esc(units.rate(run.throughput.rate, run.unit)),
                         esc(units.watts(run.power.avg_w)),
                         _run_efficiency(model.RunRef(src, i, run)),
                         f'<span class="bad">OUTLIER</span> {esc("; ".join(reasons))}' if reasons else "ok"])
            classes.append("outlier" if reasons else "")
        fleet = src.doc.fleet
        lost = fleet.lost_ranks if fleet else []
        head = (f"<h3>[{esc(src.tag)}] {esc(src.path)}: world size {esc(fleet.world_size if fleet else len(runs))}"
                + (f', <span class="bad">lost ranks {esc(", ".join(map(str, lost)))}</span>' if lost else "")
                + "</h3>")
        parts.append(head + table(["workload", "rank", "node", "device", "throughput", "avg W",
                                   efficiency_header(run.unit for _, run in runs), "verdict"], rows,
                                  numeric={1, 4, 5, 6}, row_classes=classes))
    if not parts:
        return ""
    note = '<p class="note">Outlier: below the fleet median by more than 3 x MAD and 5% (bench.qualify.outliers).</p>'
    return section("fleet", "Per GPU (fleet)", "".join(parts) + note)


def validation_section(sources: list[model.Source]) -> str:
    """Findings of every validation check per file."""
    body = ""
    for src in sources:
        found = model.findings(src.doc)
        body += f"<h3>[{esc(src.tag)}] {esc(src.path)}</h3>"
        if not found:
            body += '<p class="ok">no findings</p>'
            continue
        rows = [[f'<span class="{"bad" if lvl == "error" else "warn"}">{esc(lvl)}</span>', esc(chk), esc(p), esc(m)]
                for lvl, chk, p, m in found[:200]]
        body += table(["level", "check", "where", "finding"], rows)
    return section("validation", "Validation findings", body)


def systems_section(sources: list[model.Source]) -> str:
    """The full system description and settings of every file."""
    body = ""
    for src in sources:
        doc = src.doc
        sig = doc.signature
        meta = {"file": src.path, "id": doc.id, "created": doc.created, "source": doc.source,
                "harness": doc.harness.to_json(), "submitter": doc.submitter.to_json() if doc.submitter else None,
                "signature": {"alg": sig.alg, "key_id": sig.key_id} if sig else "not signed"}
        body += (f"<h3>[{esc(src.tag)}] {esc(src.hostname)}</h3>{kv(meta)}"
                 f"<details open><summary>system</summary>{kv(doc.system.to_json())}</details>"
                 f"<details><summary>settings</summary>{kv(doc.settings.to_json() if doc.settings else {})}</details>")
    return section("systems", "Systems", body)


def files_section(sources: list[model.Source]) -> str:
    """Which file is which tag, shown when several files sit side by side."""
    rows = [[esc(s.tag), esc(s.path), esc(systems_text(model.systems([s]))), esc(s.doc.source), esc(s.doc.created),
             esc(len(s.doc.runs))] for s in sources]
    return section("files", "Files side by side",
                   table(["tag", "file", "system", "source", "created", "runs"], rows, numeric={5}))


def render(files: list[tuple[str, Document]], *, mw: float = 1.0, pue: float = 1.0,
           title: str = "Site qualification report", climate: tuple[ClimateYear, Cooling] | None = None) -> str:
    """The report for ``(path, document)`` pairs as one self-contained HTML string."""
    tags = string.ascii_uppercase
    sources = [model.Source(p, d, tags[i] if i < len(tags) else str(i + 1)) for i, (p, d) in enumerate(files)]
    refs = model.collect(sources)
    sized = model.sizing(sources, mw, pue)
    body = summary(sources, refs, sized, mw, pue)
    if len(sources) > 1:
        body += files_section(sources)
    body += plots_section(refs, sized, mw, pue) + thermal_section(refs) + soak_section(refs)
    body += climate_section(sources, sized, climate)
    body += runs_section(refs) + fleet_section(sources) + miners_section(sources)
    body += envelopes_section(sources, mw, pue)
    body += validation_section(sources) + systems_section(sources)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return page(title, f"{len(sources)} result file(s), {len(refs)} run(s); generated {stamp}", body)
