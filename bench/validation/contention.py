"""Contention: a run measured on a busy machine is flagged, and its verdict must follow from its own figures."""

from __future__ import annotations

from bench.record import Document, contention_reasons
from bench.validation.core import Finding, check


@check("contention")
def contention_flagged(doc: Document) -> list[Finding]:
    """A note for every contended run; an error when ``contended`` or ``reasons`` disagree with the recorded shares.

    The thresholds are sitebench's, not the file's: a file cannot call a run
    uncontended whose other processes took half the CPU.
    """
    out: list[Finding] = []
    for i, run in enumerate(doc.runs):
        c = run.contention
        if c is None:
            continue
        path = f"$.runs[{i}].contention"
        want = contention_reasons(c.others_cpu, c.steal, c.throttle_events, list(c.gpu_throttled))
        if c.contended != bool(want) or list(c.reasons) != want:
            out.append(Finding("contention", path, f"contended={c.contended} with reasons {list(c.reasons)}, but "
                               f"its figures give {bool(want)} ({'; '.join(want) or 'no reason'})"))
        elif c.contended:
            out.append(Finding("contention", path, f"{run.workload} on {run.device} ran on a busy machine: "
                               f"{'; '.join(want)}; its figures are not this machine's own", "note"))
    return out
