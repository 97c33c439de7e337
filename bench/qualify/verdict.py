"""PASS/FAIL per device (CPU, GPU, ASIC miner, endpoint), node and fleet for a result file against a Spec.

Each device's verdict names it by its kind (:func:`bench.tables.kind_name`); the GPU rules of a spec
(``max_gpu_w``, ``gpus_per_node``) judge GPUs only, so a CPU run is never counted or judged as a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import units
from bench.measure.totals import node_power
from bench.qualify.fleet import check as fleet_check
from bench.qualify.miners import check as miner_check
from bench.qualify.outliers import fleet_outliers, metric_value, run_key
from bench.qualify.spec import Spec
from bench.record import Document, Run
from bench.record.miners import is_miner
from bench.tables import ENERGY_PER, kind_name


@dataclass
class Verdict:
    """One unit's verdict: PASS when it has no reasons to fail.

    ``level`` is where it sits (``device``, ``miner``, ``node``, ``fleet``); ``kind`` what it is, as the
    table shows it (``CPU``, ``GPU``, ``ASIC miner``, ``endpoint``, ``declared hardware``, ``node``,
    ``fleet``).
    """

    level: str
    key: str
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: str = ""

    def __post_init__(self) -> None:
        self.kind = self.kind or self.level

    @property
    def passed(self) -> bool:
        """True when nothing failed."""
        return not self.reasons


def throttled(run: Run) -> bool | None:
    """True/False from the meters' ``telemetry_summary.throttled`` over the measured window
    (layout: bench.power.window.telemetry); None when no meter recorded throttle reasons."""
    seen = None
    for m in run.power.meters:
        if m.telemetry_summary is not None and m.telemetry_summary.throttle_reasons:
            seen = bool(seen) or m.telemetry_summary.throttled
    return seen


def gpu_power_w(run: Run) -> float | None:
    """The average W of the run's own GPU: its ``gpu:N`` meter (the device's index), not CPU or node power.

    On a GH200 the meter (``module:N``) counts the whole module; the GPU's own power is its
    ``gpu_power_w`` telemetry (the instant power field's mean over the window).
    """
    index = (run.local_device or run.device).partition(":")[2]
    gpus = [m for m in run.power.meters if m.scope.startswith("gpu:") and m.avg_w is not None]
    mine = [m for m in gpus if m.scope == f"gpu:{index}"] if index.isdigit() else []
    chosen = mine or (gpus if len(gpus) == 1 else [])
    if chosen:
        return chosen[0].avg_w
    modules = [m for m in run.power.meters if m.scope.startswith("module:")]
    module = next((m for m in modules if m.scope == f"module:{index}"), modules[0] if len(modules) == 1 else None)
    summary = module.telemetry_summary if module is not None else None
    own = summary.series.get("gpu_power_w") if summary is not None else None
    return own.mean if own is not None else None


def figure(run: Run, metric: str, value: float) -> str:
    """A throughput (``"57.9 MH/s"``) or efficiency (``"3.5 Mhash/J = 2.86e+05 J/TH"``) in its units."""
    if metric == "throughput":
        return units.rate(value, run.unit)
    per_joule = units.si(value, f"{run.unit}/J")
    return f"{per_joule} = {units.efficiency(value, run.unit)}" if run.unit in ENERGY_PER else per_joule


def _device_checks(run: Run, spec: Spec) -> tuple[list[str], list[str]]:
    reasons: list[str] = []
    notes: list[str] = []
    wl = run.workload
    gpu = _kind(run) == "GPU"
    if not run.ok:
        return [f"{wl}: run {run.status}: {run.error or 'no error recorded'}"], notes
    if not run.verified:
        reasons.append(f"{wl}: output not verified")
    rule = spec.workloads.get(wl)
    if rule:
        for metric, floor in (("throughput", rule.min_throughput), ("efficiency", rule.min_efficiency)):
            if floor is None:
                continue
            v = metric_value(run, metric)
            if v is None:
                reasons.append(f"{wl}: {metric} not recorded (minimum {figure(run, metric, floor)})")
            elif v < floor:
                reasons.append(f"{wl}: {metric} {figure(run, metric, v)} below minimum {figure(run, metric, floor)}")
    if spec.max_gpu_w is not None and not gpu:
        notes.append(f"{wl}: a {_kind(run)}, not a GPU: the GPU power limit does not apply")
    elif spec.max_gpu_w is not None:
        gpu_w = gpu_power_w(run)
        if gpu_w is None:
            reasons.append(f"{wl}: GPU power not recorded (no gpu meter for {run.local_device or run.device}), "
                           f"cannot check max {spec.max_gpu_w:.0f} W")
        elif gpu_w > spec.max_gpu_w:
            reasons.append(f"{wl}: GPU power {gpu_w:.1f} W above maximum {spec.max_gpu_w:.0f} W")
    t = throttled(run)
    if t is None:
        notes.append(f"{wl}: throttling not recorded")
    elif t and not spec.allow_throttling:
        reasons.append(f"{wl}: throttled during the measured window")
    return reasons, notes


def qualify(doc: Document, spec: Spec) -> tuple[list[Verdict], list[Verdict], Verdict]:
    """Verdicts per device (CPU, GPU, ...) and per ASIC miner (sorted by key), per node, and for the fleet.

    Node power is each node's meters counted once per scope (:func:`bench.run.ranks.node_power`):
    a BMC or CPU meter every rank of the node read is not added once per rank.
    """
    host = doc.system.hostname or doc.system.model or "?"
    runs = doc.runs
    gpus: dict[str, Verdict] = {}
    node_of: dict[str, str] = {}
    node_runs: dict[tuple[str, str], list[Run]] = {}
    miners: dict[str, Verdict] = {}
    for i, run in enumerate(runs):
        key = run_key(run, i, host)
        if is_miner(run):  # an ASIC miner is its own unit: no node, its own rules (bench.qualify.miners)
            mv = miners.setdefault(key, Verdict("miner", key, kind="ASIC miner"))
            reasons, notes = miner_check(run, spec.miners)
            mv.reasons += reasons
            mv.notes += notes
            continue
        node = run.node or host
        node_of[key] = node
        v = gpus.setdefault(key, Verdict("device", key, kind=_kind(run)))
        reasons, notes = _device_checks(run, spec)
        v.reasons += reasons
        v.notes += notes
        node_runs.setdefault((node, run.workload), []).append(run)
    for o in fleet_outliers(runs, host, k=spec.k, min_rel_gap=spec.min_rel_gap):
        unit = gpus.get(o.key) or miners[o.key]
        (unit.reasons if spec.outliers_fail else unit.notes).append("outlier: " + o.reason())
    nodes: dict[str, Verdict] = {}
    for key, v in gpus.items():
        n = nodes.setdefault(node_of[key], Verdict("node", node_of[key]))
        if not v.passed:
            n.reasons.append(f"{v.kind} {key} failed")
    for (node, wl), mine in sorted(node_runs.items(), key=lambda kv: kv[0]):
        if spec.max_node_w is None:
            continue
        w = node_power(mine)
        if w is None:
            nodes[node].reasons.append(f"{wl}: node power not recorded (meters failed), not sized as zero")
        elif w > spec.max_node_w:
            nodes[node].reasons.append(f"{wl}: node power {w:.0f} W above maximum {spec.max_node_w:.0f} W")
    if spec.gpus_per_node:
        for node, n in nodes.items():
            count = len({k for k, v in gpus.items() if node_of[k] == node and v.kind == "GPU"})
            if count < spec.gpus_per_node:
                n.reasons.append(f"{count} GPUs reported, spec wants {spec.gpus_per_node}")
    fleet = Verdict("fleet", "fleet")
    for lost in doc.fleet.lost_ranks if doc.fleet else []:
        fleet.reasons.append(f"rank {lost} lost (died or timed out)")
    fleet.reasons += [f"node {n.key} failed" for n in nodes.values() if not n.passed]
    fleet.reasons += [f"miner {m.key} failed" for m in miners.values() if not m.passed]
    if doc.miners_fleet is not None:  # a merged fleet: how many of its miners break each rule
        reasons, notes = fleet_check(doc.miners_fleet, spec.miners, spec.outliers_fail)
        fleet.reasons += reasons
        fleet.notes += notes
    if not runs:
        fleet.reasons.append("no runs in the result file")
    return sorted([*gpus.values(), *miners.values()], key=lambda v: v.key), list(nodes.values()), fleet


def _kind(run: Run) -> str:
    return kind_name(run.device, run.hardware.kind if run.hardware is not None else None)
