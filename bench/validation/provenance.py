"""Provenance: known harness, verified output, meters that say what and how they measured."""

from __future__ import annotations

from typing import Any

from bench.validation.core import Finding, check, is_declared


@check("provenance")
def provenance(doc: dict[str, Any]) -> list[Finding]:
    """Harness is sitebench with a version; measured ok runs verified; every meter has scope and method."""
    out: list[Finding] = []
    h = doc.get("harness") if isinstance(doc.get("harness"), dict) else {}
    if h.get("name") != "sitebench" or not isinstance(h.get("version"), str) or not h.get("version"):
        out.append(Finding("provenance", "$.harness", "harness name/version unknown (expected sitebench and a version)"))
    if is_declared(doc):
        return out
    for i, run in enumerate(doc.get("runs") or []):
        if not isinstance(run, dict) or run.get("status", "ok") != "ok":
            continue
        if run.get("verified") is not True:
            out.append(Finding("provenance", f"$.runs[{i}].verified", "output verification did not pass"))
        for k, m in enumerate((run.get("power") or {}).get("meters") or []):
            if isinstance(m, dict) and not (m.get("scope") and m.get("method")):
                out.append(Finding("provenance", f"$.runs[{i}].power.meters[{k}]", "meter scope or method missing"))
    return out
