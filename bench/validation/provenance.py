"""Provenance: known harness, verified output, meters that say what and how they measured."""

from __future__ import annotations

from bench.record import Document
from bench.validation.core import Finding, check


@check("provenance")
def provenance(doc: Document) -> list[Finding]:
    """Measured ok runs verified; every meter names its scope and method (the types require a harness)."""
    out: list[Finding] = []
    if doc.declared:
        return out
    for i, run in enumerate(doc.runs):
        if not run.ok:
            continue
        if not run.verified:
            out.append(Finding("provenance", f"$.runs[{i}].verified", "output verification did not pass"))
        if run.power.avg_w is not None and run.power.scope_class is None:
            out.append(Finding("provenance", f"$.runs[{i}].power.scope_class", "a power figure without a scope class"))
    return out
