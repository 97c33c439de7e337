"""The terminal's tables of runs and sizing: what ``run``, ``show``, ``serve`` and ``import`` print.

Cells are cut and escaped through the foundation's :mod:`bench.tables`; the
figures are the record's own and, for what a MW buys, :func:`bench.sizing.model.size`'s.
"""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from bench import units
from bench.record import Document, Run
from bench.sizing.model import WITH_OVERHEAD, Allocation, Sized, machine_efficiency, size
from bench.sizing.sources import candidates
from bench.tables import MAX_ROWS, cut, efficiency_header, kind_name, more_row


def labels(runs: list[Run]) -> list[str]:
    """Each run's workload name, plus the parameters that tell apart runs of the same workload (a sweep)."""
    values: dict[tuple[str, str], dict[str, set[str]]] = {}
    sizes: dict[tuple[str, str], int] = {}
    holders: dict[tuple[tuple[str, str], str], int] = {}
    for run in runs:  # per (workload, device): every value each parameter takes, and how many runs have it
        group = (run.workload, run.device)
        sizes[group] = sizes.get(group, 0) + 1
        seen = values.setdefault(group, {})
        for k, v in run.params.items():
            seen.setdefault(k, set()).add(repr(v))
            holders[(group, k)] = holders.get((group, k), 0) + 1
    out = []
    for run in runs:
        group = (run.workload, run.device)
        differ = [k for k in run.params
                  if len(values[group][k]) > 1 or holders[(group, k)] < sizes[group]]
        out.append(run.workload + "".join(f" {k}={run.params[k]}" for k in differ) + setting_label(run))
    return out


def setting_label(run: Run) -> str:
    """`` @300 W`` for a run of a knob sweep (`` stock`` at the device's default, `` OVER`` over its limit)."""
    s = run.setting
    if s is None:
        return ""
    value = f"{s.requested:g} {s.unit}" if isinstance(s.requested, float) else str(s.requested)
    return f" @{value}" + (" stock" if s.stock else "") + (" OVER" if s.over_limit else "")


def quality_label(run: Run) -> str:
    """``L0``..``L3`` (the power layer's measurement quality level), red when refused for sizing."""
    text = f"L{run.power.quality.level}"
    return text if run.power.valid_for_sizing or run.power.avg_w is None else f"[red]{text} refused[/red]"


def power_notes(runs: list[Run]) -> list[str]:
    """One line per run whose power was refused for sizing, had gaps or meters that disagree."""
    notes = []
    for run, label in zip(runs, labels(runs)):
        reasons = [*run.power.invalid_reasons, *run.power.flags] if run.ok else []
        for reason in dict.fromkeys(reasons):
            notes.append(f"{cut(label)} on {cut(run.device)}: {cut(reason, 400)}")
        if run.throughput.unstable and run.throughput.cv is not None:
            notes.append(f"[yellow]{cut(label)} on {cut(run.device)}: unstable, throughput varies "
                         f"{run.throughput.cv:.0%} between windows (over 10%)[/yellow]")
        if run.contention is not None and run.contention.contended:
            notes.append(f"[yellow]{cut(label)} on {cut(run.device)}: CONTENDED, measured on a busy machine: "
                         f"{cut('; '.join(run.contention.reasons), 400)}[/yellow]")
    return notes


def _duration(seconds: float) -> str:
    return f"{seconds:.3g} s" if seconds < 120 else f"{seconds / 60:.3g} min" if seconds < 7200 \
        else f"{seconds / 3600:.3g} h"


def soak_lines(runs: list[Run]) -> list[str]:
    """One line per soaked run: its drift per hour with the 95% interval and verdict, and the time throttled."""
    out = []
    for run, label in zip(runs, labels(runs)):
        s = run.soak
        if s is None:
            continue
        parts = [f"{cut(label)} on {cut(run.device)}: {s.windows} windows, {_duration(s.duration_s)}"]
        for name, d in (("throughput", s.throughput), ("efficiency", s.efficiency)):
            if d is not None:
                ci = f" [{d.low * 100:+.2f}, {d.high * 100:+.2f}]" if d.low is not None and d.high is not None else ""
                parts.append(f"{name} {d.per_hour * 100:+.2f} %/h{ci} {d.verdict}")
        parts.append(f"{s.verdict.upper()} against ±{s.threshold * 100:g} %/h")
        if s.throttled_fraction is not None and s.throttled_s is not None:
            worst = max(s.throttle, key=lambda t: (t.fraction, t.seconds))
            why = [f"{r} {_duration(v)}" for r, v in sorted(worst.reasons.items(), key=lambda kv: -kv[1])[:3]]
            parts.append(f"throttled {s.throttled_fraction:.1%} ({_duration(s.throttled_s)}"
                         + (f"; {', '.join(why)}" if why else "") + ")")
        else:
            parts.append("throttling not reported")
        out.append("; ".join(parts))
    return out


def device_kind(run: Run) -> str:
    """What a run measured, by kind (:func:`bench.tables.kind_name` of its device and hardware)."""
    return kind_name(run.device, run.hardware.kind if run.hardware is not None else None)


def system_line(doc: Document) -> str:
    """What a file describes, for ``sitebench show``: the host with its CPU and GPUs when sitebench
    recorded one; for a declared file, or one with no CPU or GPU recorded, the declared hardware (its
    model, and where the figures come from) instead of unknown CPU fields; and, when the runs measured
    units over the network (ASIC miners, endpoints), how many of each make and model."""
    sysinfo = doc.system
    seen = Counter(f"{device_kind(r)} {' '.join(x for x in (h.make, h.model) if x) or '?'}"
                   for r in doc.runs if (h := r.hardware) is not None)
    extra = [f"units measured: {cut(', '.join(f'{n}x {name}' if n > 1 else name for name, n in seen.items()), 300)}"
             ] if seen else []
    if doc.declared or (sysinfo.cpu is None and not sysinfo.gpus):
        name = sysinfo.model or sysinfo.hostname or "?"
        what = "declared (vendor figures, not measured)" if doc.declared else "no CPU or GPU recorded"
        lines = [f"hardware: {cut(name)}, {what}"]
        if sysinfo.note:
            lines.append(f"figures from: {cut(sysinfo.note, 400)}")
        return "\n".join([*lines, *extra])
    cpu = sysinfo.cpu
    gpus = ", ".join(g.name for g in sysinfo.gpus) or "none"
    cpu_text = "none recorded" if cpu is None else f"{cut(cpu.model or '?')} ({cpu.logical_cpus or '?'} logical)"
    model = f" ({cut(sysinfo.model)})" if sysinfo.model and sysinfo.hostname else ""
    return "\n".join([f"system: {cut(sysinfo.hostname or sysinfo.model or '?')}{model}  cpu {cpu_text}  "
                      f"gpus {cut(gpus, 200)}", *extra])


def efficiency_cell(run: Run, declared: bool = False) -> str:
    """The run's efficiency, and beside it the machine's (with the node overhead) for a components-only run."""
    text = units.efficiency(run.efficiency.per_joule, run.unit)
    machine = machine_efficiency(run, declared)
    return text + (f"\n{units.efficiency(machine, run.unit)} {WITH_OVERHEAD}" if machine else "")


def runs_table(runs: list[Run], title: str | None = None) -> Table:
    """Workload, device, throughput, average W, J/TH or J/token (units per joule for other units), ceiling
    fraction, quality, verified, status."""
    table = Table(title=title, title_justify="left")
    for col in ("workload", "device", "throughput", "cv", "avg W", efficiency_header(r.unit for r in runs),
                "ceiling", "quality", "verified", "status"):
        table.add_column(col, justify="right" if col not in ("workload", "device", "status") else "left")
    for run, label in list(zip(runs, labels(runs)))[:MAX_ROWS]:
        thr, pw = run.throughput, run.power
        watts = units.watts(pw.avg_w) + (" (modelled)" if pw.modelled else "")
        rate = units.rate(thr.rate, run.unit)
        cv = f"{thr.cv:.1%}" if thr.cv is not None else "-"
        table.add_row(
            cut(label), cut(run.device),
            f"[yellow]{rate}[/yellow]" if thr.unstable else rate,
            f"[yellow]{cv} unstable[/yellow]" if thr.unstable else cv,
            watts, efficiency_cell(run),
            f"{run.ceiling_fraction:.1%}" if run.ceiling_fraction is not None else "-",
            quality_label(run), "yes" if run.verified else "[red]no[/red]",
            (run.status if run.ok else f"[red]{run.status}[/red]")
            + (" [yellow]contended[/yellow]" if run.contention is not None and run.contention.contended else ""),
        )
    more_row(table, min(len(runs), MAX_ROWS), len(runs))
    return table


def per_mw_table(doc: Document, path: str = "", mw: float = 1.0, pue: float = 1.0) -> tuple[Table, bool]:
    """What ``mw`` of facility power buys of each run (``sitebench size``'s figures); flag: any power modelled."""
    alloc = Allocation(mw, pue)
    table = Table(title=f"What {mw:g} MW buys at PUE {pue:g} (as sitebench size; components-only runs add "
                        "the node overhead)", title_justify="left")
    found = candidates(doc, path)
    for col in ("workload", "device", "machines", "throughput", efficiency_header(c.run.unit for c in found),
                "facility MW", "power source"):
        table.add_column(col, justify="right" if col not in ("workload", "device", "power source") else "left")
    modelled = False
    for c, name in list(zip(found, labels([c.run for c in found])))[:MAX_ROWS]:
        s = size(c, alloc)
        if not isinstance(s, Sized):
            refused = c.run.ok and c.run.power.avg_w is not None and not c.run.power.valid_for_sizing
            table.add_row(cut(name), cut(c.run.device), "-", "-", "-", "-",
                          "[red]refused[/red]" if refused else f"not sized: {cut(s.reason)}")
            continue
        scale, label = units.throughput_per_mw_unit(s.unit)
        modelled |= s.modelled
        eff = units.efficiency(s.efficiency, s.unit)
        if s.node_overhead_w:
            eff += f"\n{units.efficiency(s.machine_efficiency, s.unit)} {WITH_OVERHEAD}"
        tag = "declared" if s.source == "declared" else "[yellow]MODELLED[/yellow]" if s.modelled else "measured"
        thr = units.rate(s.throughput, s.unit)
        table.add_row(cut(name), cut(c.run.device), f"{s.machines:,}",
                      f"[yellow]{thr} (unstable)[/yellow]" if s.unstable else thr, eff,
                      f"{s.mw_per_throughput * scale:.4g} per {label}", tag)
    more_row(table, min(len(found), MAX_ROWS), len(found))
    return table, modelled


def fleet_table(doc: Document) -> Table | None:
    """Per workload and node of a fleet file: ranks, throughput and power (each meter scope once per node)."""
    fleet = doc.fleet
    if fleet is None:
        return None
    unit_of = {r.workload: r.unit for r in doc.runs}
    lost = fleet.lost_ranks
    title = f"fleet: {fleet.world_size} ranks on {len(fleet.nodes)} node(s)"
    table = Table(title=title + (f", LOST ranks {lost}" if lost else ""), title_justify="left")
    for col in ("workload", "node", "ranks", "throughput", "avg W"):
        table.add_column(col, justify="left" if col in ("workload", "node") else "right")
    for workload, tot in fleet.totals.items():
        unit = unit_of.get(workload, "")
        for name, node in tot.nodes.items():
            ranks = fleet.nodes[name].ranks if name in fleet.nodes else []
            watts = units.watts(node.avg_w) if node.avg_w is not None else "[red]meter failed[/red]"
            table.add_row(cut(workload), cut(name), str(len(ranks)), units.rate(node.throughput, unit), watts)
        total_w = units.watts(tot.avg_w) if tot.avg_w is not None else "[red]incomplete[/red]"
        table.add_row(f"[bold]{cut(workload)}[/bold]", "[bold]fleet[/bold]", str(fleet.world_size),
                      units.rate(tot.throughput, unit), total_w)
    return table
