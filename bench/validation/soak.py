"""A soak's figures are recomputed from the run's windows.

For every run with a ``soak`` block: its window count, measured duration, each figure's drift (per hour,
interval, mean, autocorrelation, effective windows, verdict), the overall verdict and the throttled time
per device must be what :func:`bench.measure.soak.soak_block` gives from the run's own throughput samples,
window phases, window energies and ``thermal.throttle`` windows, for the soak asked (its ``requested_s``,
``window_s`` and ``threshold``). A soak longer than the file's window count allows is a finding too.
"""

from __future__ import annotations

from typing import Any

from bench.measure.soak import SoakSpec, soak_block
from bench.record import Document
from bench.record.soak import Soak
from bench.validation.core import Finding, check, close

NAME = "soak"
#: Figures compared at this relative tolerance (the computation is deterministic; JSON round-trips floats).
REL = 1e-6
_DRIFT = ("per_hour", "low", "high", "mean", "autocorrelation", "effective_windows")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return close(a, b, REL)
    return bool(a == b)


def _compare(got: Soak, want: Soak, where: str) -> list[Finding]:
    out = []
    for key in ("planned_windows", "windows", "duration_s", "verdict", "throttled_s", "throttled_fraction"):
        if not _same(getattr(got, key), getattr(want, key)):
            out.append(Finding(NAME, f"{where}.{key}", f"{getattr(got, key)!r} but the run's windows give "
                                                       f"{getattr(want, key)!r}"))
    for quantity in ("throughput", "efficiency"):
        g, w = getattr(got, quantity), getattr(want, quantity)
        if (g is None) != (w is None):
            out.append(Finding(NAME, f"{where}.{quantity}", f"{'present' if g else 'missing'} but the run's "
                                                            f"windows {'give none' if w is None else 'give one'}"))
            continue
        if g is None:
            continue
        for key in (*_DRIFT, "windows", "verdict"):
            if not _same(getattr(g, key), getattr(w, key)):
                out.append(Finding(NAME, f"{where}.{quantity}.{key}",
                                   f"{getattr(g, key)!r} but the run's windows give {getattr(w, key)!r}"))
    mine = {t.device: t for t in want.throttle}
    for k, t in enumerate(got.throttle):
        w_t = mine.get(t.device)
        if w_t is None:
            out.append(Finding(NAME, f"{where}.throttle[{k}]", f"{t.device}: the run's thermal block has no "
                                                               "throttle reasons for it"))
            continue
        for key in ("seconds", "covered_s", "fraction"):
            if not _same(getattr(t, key), getattr(w_t, key)):
                out.append(Finding(NAME, f"{where}.throttle[{k}].{key}",
                                   f"{getattr(t, key)!r} but its thermal windows give {getattr(w_t, key)!r}"))
        if set(t.reasons) != set(w_t.reasons) or any(not close(v, w_t.reasons[r], REL) for r, v in t.reasons.items()
                                                     if r in w_t.reasons):
            out.append(Finding(NAME, f"{where}.throttle[{k}].reasons", "the seconds per reason are not its thermal "
                                                                       "windows' sums"))
    missing = set(mine) - {t.device for t in got.throttle}
    if missing:
        out.append(Finding(NAME, f"{where}.throttle", f"leaves out {', '.join(sorted(missing))}, whose throttle "
                                                      "reasons the run's thermal block holds"))
    return out


@check(NAME)
def soak_recomputed(doc: Document) -> list[Finding]:
    """Each soak's drift, verdicts and throttled time follow from its run's windows."""
    out: list[Finding] = []
    for i, run in enumerate(doc.runs):
        s = run.soak
        if s is None:
            continue
        where = f"$.runs[{i}].soak"
        spec = SoakSpec(s.requested_s, s.window_s, s.threshold)
        if s.windows > spec.windows:
            out.append(Finding(NAME, f"{where}.windows", f"{s.windows} windows but {s.requested_s:g} s in windows "
                                                         f"of {s.window_s:g} s is {spec.windows}"))
        if not run.windows or not run.throughput.samples:
            out.append(Finding(NAME, where, "a soak block on a run without measured windows"))
            continue
        out += _compare(s, soak_block(run, spec), where)
    return out
