"""Which derating curve sizes which machine: its result file's own, else a declared one, else none.

1. The result file's ``derating`` block (``sitebench derate --out``, fitted or declared) when its workload is
   the sized run's;
2. else a DECLARED curve shipped for the machine's model (:mod:`bench.sizing.derate_declared`);
3. else none: the flat figure holds at every temperature, and the output says so.
"""

from __future__ import annotations

from bench.record import Document
from bench.sizing.derate import Curve
from bench.sizing.derate_declared import declared_for
from bench.sizing.model import Sized

NO_CURVE = "no derating curve: the flat figure is held at every temperature (soak the machine and run sitebench derate)"


def curve_for(s: Sized, doc: Document | None) -> Curve:
    """The curve that sizes ``s`` (``doc``: the result file it came from, when at hand)."""
    own = doc.derating if doc is not None else None
    if own is not None and own.workload in (s.workload, "*") and own.unit in (s.unit, "*"):
        label = "fitted" if own.source == "fitted" else "DECLARED"
        return Curve(own, f"{label} curve from {s.file}")
    declared = declared_for(s.system)
    if declared is not None:
        return Curve(declared, f"DECLARED: {declared.system}; {declared.reference}")
    return Curve(None, NO_CURVE)
