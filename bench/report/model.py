"""What the report shows, computed from result documents: labels, sizing rows, findings, outliers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.sizing import per_megawatt


@dataclass
class Source:
    """One result file in the report."""

    path: str
    doc: dict[str, Any]
    tag: str = ""

    @property
    def hostname(self) -> str:
        """The system's hostname, ``?`` when not recorded."""
        return str((self.doc.get("system") or {}).get("hostname") or "?")


@dataclass
class RunRef:
    """One run with the file it came from and a short label to show."""

    source: Source
    index: int
    run: dict[str, Any]
    label: str = ""
    sizing: dict[str, Any] | None = field(default=None)


def run_label(src: Source, run: dict[str, Any], many_files: bool) -> str:
    """``host cuda:0`` or ``host/rank3 cuda:3``; prefixed ``[A]`` when several files are shown."""
    node = run.get("node") or src.hostname
    where = f"{node}/rank{run['rank']}" if "rank" in run else node
    text = f"{where} {run.get('device', '?')}"
    return f"[{src.tag}] {text}" if many_files else text


def collect(sources: list[Source]) -> list[RunRef]:
    """Every run of every file, labelled."""
    many = len(sources) > 1
    refs = []
    for src in sources:
        for i, run in enumerate(src.doc.get("runs") or []):
            if isinstance(run, dict):
                refs.append(RunRef(src, i, run, run_label(src, run, many)))
    return refs


def allocation(run: dict[str, Any], mw: float, pue: float) -> dict[str, Any] | None:
    """What ``mw`` MW of facility power at ``pue`` buys of one run's hardware.

    Uses :func:`bench.sizing.per_megawatt` (IT power) and divides the facility
    allocation by PUE. None when the run has no throughput or no power.
    """
    fig = per_megawatt(run)
    if fig is None:
        return None
    it_mw = mw / pue
    return {
        "machines": fig["machines_per_mw"] * it_mw,
        "throughput": fig["throughput_per_mw"] * it_mw,
        "mw_per_unit_per_s": fig["mw_per_unit_per_s"] * pue,
        "measured": fig["measured"],
    }


def efficiency_row(ref: RunRef) -> dict[str, Any]:
    """Efficiency with p10/p90 bounds from the throughput spread at the run's average power."""
    run = ref.run
    thr = run.get("throughput") or {}
    watts = (run.get("power") or {}).get("avg_w")
    per_j = (run.get("efficiency") or {}).get("per_joule")

    def bound(key: str) -> float | None:
        v = thr.get(key)
        return v / watts if isinstance(v, (int, float)) and v > 0 and watts else None

    return {"label": ref.label, "workload": run.get("workload", "?"), "unit": run.get("unit", "?"),
            "per_joule": per_j, "lo": bound("p10"), "hi": bound("p90"),
            "measured": bool((run.get("power") or {}).get("measured"))}


def findings(doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """``(level, check, json path, message)`` from ``bench.validation`` or, without it, the schema."""
    try:
        from bench.validation import validate
    except ImportError:
        validate = None
    if validate is not None:
        return [(f.level, f.check, f.path, f.message) for f in validate(doc)]
    from bench.resultfile import schema_errors

    return [("error", "schema", p, m) for p, m in schema_errors(doc)]


def outliers(src: Source) -> dict[str, list[str]]:
    """Fleet outliers ``{run key: [reasons]}``; empty when not a fleet file or the fleet code is absent."""
    runs = [r for r in src.doc.get("runs") or [] if isinstance(r, dict)]
    if not any("rank" in r for r in runs):
        return {}
    try:
        from bench.fleet.outliers import fleet_outliers
    except ImportError:
        return {}
    flagged: dict[str, list[str]] = {}
    for o in fleet_outliers(runs, src.hostname):
        flagged.setdefault(f"{o.key}|{o.workload}", []).append(o.reason())
    return flagged


def run_key(src: Source, run: dict[str, Any], index: int) -> str:
    """The key fleet outliers are reported under, plus the workload."""
    try:
        from bench.fleet.outliers import run_key as key
    except ImportError:
        return f"{index}|{run.get('workload')}"
    return f"{key(run, index, src.hostname)}|{run.get('workload')}"


def quality(run: dict[str, Any]) -> str:
    """``measured (rapl, ±5%)``, ``MODELLED`` or ``no power``."""
    power = run.get("power") or {}
    if power.get("avg_w") is None:
        return "no power"
    if not power.get("measured"):
        return "MODELLED"
    meters = [m for m in power.get("meters") or [] if isinstance(m, dict)]
    parts = []
    for m in meters:
        acc = m.get("accuracy")
        parts.append(f"{m.get('method', m.get('kind', '?'))}" + (f" ±{acc:.0%}" if isinstance(acc, (int, float)) else ""))
    return "measured" + (f" ({', '.join(parts)})" if parts else "")
