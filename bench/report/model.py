"""What the report shows, computed from typed result documents: labels, sizing rows, findings, outliers."""

from __future__ import annotations

from dataclasses import dataclass

from bench.qualify.outliers import fleet_outliers
from bench.qualify.outliers import run_key as fleet_key
from bench.record import Document, Run
from bench.record.miners import is_miner
from bench.sizing.model import Allocation, Sized, Skipped, size
from bench.sizing.sources import candidates
from bench.validation import run_checks


@dataclass
class Source:
    """One result file in the report."""

    path: str
    doc: Document
    tag: str = ""

    @property
    def hostname(self) -> str:
        """The system's hostname (the declared model for a declared file), ``?`` when not recorded."""
        return self.doc.system.hostname or self.doc.system.model or "?"


@dataclass
class RunRef:
    """One run with the file it came from and a short label to show."""

    source: Source
    index: int
    run: Run
    label: str = ""


def run_label(src: Source, run: Run, many_files: bool) -> str:
    """``host cuda:0`` or ``host/rank3 cuda:3``; prefixed ``[A]`` when several files are shown."""
    node = run.node or src.hostname
    where = f"{node}/rank{run.rank}" if run.rank is not None else node
    text = f"{where} {run.device}"
    return f"[{src.tag}] {text}" if many_files else text


def collect(sources: list[Source]) -> list[RunRef]:
    """Every run of every file, labelled."""
    many = len(sources) > 1
    return [RunRef(src, i, run, run_label(src, run, many)) for src in sources for i, run in enumerate(src.doc.runs)]


@dataclass(frozen=True)
class Measured:
    """One system the report's runs measured: a host (``kind`` ``host``), a declared model (``declared``), or a
    unit that is not the machine sitebench ran on (a run's ``hardware.kind``: ``asic``, ``endpoint``...)."""

    kind: str
    key: str
    name: str


def measured(src: Source, run: Run) -> Measured:
    """What ``run`` measured. A miner's run measured the miner (its serial, else its address), not the host
    that polled it; a served endpoint likewise; a fleet rank its node; any other run the file's system."""
    hw = run.hardware
    if hw is not None:
        key = f"serial {hw.serial}" if hw.serial else f"{run.device} {hw.make} {hw.model}"
        return Measured(hw.kind, key, " ".join(x for x in (hw.make, hw.model) if x) or hw.kind)
    if is_miner(run):  # named as a miner, did not answer as one (failed): still a miner, not the polling host
        return Measured("asic", run.device, run.device)
    if src.doc.declared:
        return Measured("declared", src.hostname, src.hostname)
    node = run.node or src.hostname
    return Measured("host", node, node)


def systems(sources: list[Source]) -> list[Measured]:
    """Every distinct system the files measured (a file without runs counts its own system), in file order."""
    seen: dict[tuple[str, str], Measured] = {}
    for src in sources:
        found = [measured(src, r) for r in src.doc.runs] or [
            Measured("declared" if src.doc.declared else "host", src.hostname, src.hostname)]
        for m in found:
            seen.setdefault((m.kind, m.key), m)
    return list(seen.values())


def sizing(sources: list[Source], mw: float, pue: float) -> list[tuple[Source, Sized | Skipped]]:
    """What ``mw`` at ``pue`` buys of each file's hardware, through the sizing model (as ``sitebench size``)."""
    alloc = Allocation(mw, pue)
    return [(src, size(c, alloc)) for src in sources for c in candidates(src.doc, src.path)]


def findings(doc: Document) -> list[tuple[str, str, str, str]]:
    """``(level, check, json path, message)`` of every validation check."""

    return [(f.level, f.check, f.path, f.message) for f in run_checks(doc)]


def outliers(src: Source) -> dict[str, list[str]]:
    """Fleet outliers ``{run key|workload: [reasons]}``; empty when not a fleet file."""
    if not any(r.rank is not None for r in src.doc.runs):
        return {}
    flagged: dict[str, list[str]] = {}
    for o in fleet_outliers(src.doc.runs, src.hostname):
        flagged.setdefault(f"{o.key}|{o.workload}", []).append(o.reason())
    return flagged


def run_key(src: Source, run: Run, index: int) -> str:
    """The key fleet outliers are reported under, plus the workload."""
    return f"{fleet_key(run, index, src.hostname)}|{run.workload}"


def quality(run: Run, declared: bool = False) -> str:
    """``measured (rapl ±5%)``, ``declared``, ``MODELLED`` or ``no power``."""
    power = run.power
    if power.avg_w is None:
        return "no power"
    if declared:
        return "declared"
    if power.modelled:
        return "MODELLED"
    parts = [m.method + (f" ±{m.accuracy:.0%}" if m.accuracy is not None else "") for m in power.primary]
    return "measured" + (f" ({', '.join(parts)})" if parts else "")
