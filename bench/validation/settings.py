"""Checks of each run's operating point (its :class:`bench.record.Setting`) and of the envelopes they form.

- **setting-readback**: the value read back is the value asked for. A number within 1% of the request
  or one step of the device (:data:`STEPS`, or the setting's own ``step`` where the record has one),
  whichever is larger; a mode exactly; a number where a mode was asked (or the reverse) never. A
  measured point without a read-back cannot say what it ran at.
- **setting-limit**: ``limit_w`` is the value the device holds (read back, else asked for) for a knob
  in W, and ``over_limit`` follows from the figures: where measured meters cover exactly what the limit
  caps (``gpu:0`` for a GPU limit, ``cpu-package:N`` for ``intel-rapl:N``), the point is over when their
  power exceeds the limit by more than their stated accuracy (``avg_w > limit_w + tolerance``, as the
  run recorded it), and the flag must say so; elsewhere a flag needs a measured power above the limit
  and its margin to rest on, and a whole-machine power above it is noted.
- **envelope**: the frontier is recomputed from the checked figures through sizing's own code
  (:mod:`bench.sizing.frontier`); an envelope may have one stock value only; each envelope's frontier
  is stated in a note, and a point on it that ran over its limit is noted.

Declared files hold no read-back and no meter: only the envelope check applies to them.
"""

from __future__ import annotations

import math
import re

from bench.record import Document, MeterFigure, Run, Setting
from bench.sizing.frontier import envelopes, setting_label
from bench.sizing.power import unit_limit_margin_w
from bench.validation.core import Finding, check

#: Relative tolerance between the value asked for and the value read back.
READBACK_REL = 0.01
#: The step a device sets a knob in, where the kind has one fixed step (NVIDIA's supported SM clocks
#: are 15 MHz apart on recent GPUs); others are taken to W or MHz as asked.
STEPS = {"gpu.sm_clocks": 15.0}
_RAPL = re.compile(r"^intel-rapl:(\d+)$")


def _step(s: Setting) -> float:
    own = getattr(s, "step", None)
    return float(own) if isinstance(own, (int, float)) and own > 0 else STEPS.get(s.knob, 0.0)


def readback_problem(s: Setting) -> str | None:
    """Why a setting's read-back does not match its request; None when it does (or there is none to check)."""
    req, rb = s.requested, s.read_back
    if rb is None:
        return None
    if isinstance(req, str) or isinstance(rb, str):
        if isinstance(req, str) and isinstance(rb, str):
            return None if req == rb else f"mode {req!r} asked for, {rb!r} read back"
        return f"{req!r} asked for, {rb!r} read back: a number and a mode"
    allowed = max(READBACK_REL * abs(req), _step(s))
    if abs(rb - req) <= allowed * (1 + 1e-9):
        return None
    return (f"{req:g} {s.unit} asked for, {rb:g} {s.unit} read back: differs by {abs(rb - req):g} {s.unit}, "
            f"more than {allowed:g} {s.unit} (1% or the device's step)")


@check("setting-readback")
def settings_read_back(doc: Document) -> list[Finding]:
    """Each measured point's setting was read back as asked (numbers within 1% or a step, modes equal)."""
    out: list[Finding] = []
    if doc.declared:
        return out
    for i, run in enumerate(doc.runs):
        s = run.setting
        if s is None:
            continue
        where = f"$.runs[{i}].setting"
        if s.read_back is None:
            if run.ok:
                out.append(Finding("setting-readback", f"{where}.read_back",
                                   f"no read-back for {setting_label(s)} on {s.target}: what the point ran at is not known"))
            continue
        problem = readback_problem(s)
        if problem:
            out.append(Finding("setting-readback", f"{where}.read_back", f"{s.knob} on {s.target}: {problem}"))
    return out


def scopes(target: str) -> list[str]:
    """The meter scopes a knob's target caps (``intel-rapl:1`` -> ``cpu-package:1``; ``+`` joins several)."""
    return [f"cpu-package:{m.group(1)}" if (m := _RAPL.match(part)) else part for part in target.split("+")]


def covering(run: Run, target: str) -> list[MeterFigure] | None:
    """One measured, valid meter with an average for each scope the target caps; None when any is missing."""
    found = []
    for scope in scopes(target):
        m = next((m for m in run.power.meters if m.scope == scope and m.measured and m.avg_w is not None and m.valid),
                 None)
        if m is None:
            return None
        found.append(m)
    return found


def _devices(s: Setting) -> int:
    """How many devices one setting covers: a sweep of every CPU package names them joined by ``+``."""
    return len(s.target.split("+"))


def _margin(meters: list[MeterFigure]) -> float:
    return sum(m.tolerance_w(m.avg_w or 0.0) or 0.0 for m in meters)


def _limit_findings(i: int, run: Run, s: Setting) -> list[Finding]:
    where = f"$.runs[{i}].setting"
    out: list[Finding] = []
    held = s.read_back if s.read_back is not None else s.requested
    if not isinstance(held, str):
        held *= _devices(s)  # one setting over several packages (``intel-rapl:0+intel-rapl:1``) caps their sum
    if s.limit_w is not None and s.unit == "W" and not isinstance(held, str) \
            and abs(s.limit_w - held) > max(READBACK_REL * abs(held), _step(s)):
        out.append(Finding("setting-limit", f"{where}.limit_w",
                           f"{s.limit_w:g} W, but the device holds {held:g} W ({s.knob} on {s.target})"))
    if s.limit_w is None:
        if s.over_limit:
            out.append(Finding("setting-limit", f"{where}.over_limit", "over its limit, but the setting has no limit_w"))
        return out
    meters = covering(run, s.target)
    if meters is not None:
        power = sum(m.avg_w or 0.0 for m in meters)
        line = s.limit_w + _margin(meters)
        if math.isclose(power, line, rel_tol=1e-6):
            return out
        over = power > line
        if over != s.over_limit:
            out.append(Finding("setting-limit", f"{where}.over_limit",
                               f"{s.over_limit}, but the measured {power:.1f} W on {'+'.join(scopes(s.target))} is "
                               f"{'above' if over else 'within'} the {s.limit_w:g} W limit and the meters' accuracy "
                               f"({line:.1f} W)"))
        return out
    p = run.power
    if s.knob.startswith("miner."):  # a miner's target caps the whole unit: the rule miners run judged it by
        margin = unit_limit_margin_w(p)[0]
    else:
        margin = _margin([m for m in p.primary if m.measured]) if p.primary else 0.0
    if p.avg_w is None or not p.measured:
        if s.over_limit:
            out.append(Finding("setting-limit", f"{where}.over_limit", "over its limit, but no measured power shows it"))
        return out
    over = p.avg_w > s.limit_w + margin
    if s.over_limit and not over and not math.isclose(p.avg_w, s.limit_w + margin, rel_tol=1e-6):
        out.append(Finding("setting-limit", f"{where}.over_limit",
                           f"over its limit, but the measured {p.avg_w:.1f} W ({p.scope}) is within the "
                           f"{s.limit_w:g} W limit and the meters' accuracy"))
    elif over and not s.over_limit and s.knob.startswith("miner."):
        out.append(Finding("setting-limit", f"{where}.over_limit",
                           f"the miner drew {p.avg_w:.1f} W ({p.scope}) against a {s.limit_w:g} W target, above it by "
                           "more than the meters' accuracy, and the point is not flagged", "note"))
    return out


@check("setting-limit")
def settings_within_limits(doc: Document) -> list[Finding]:
    """``limit_w`` is the value held, and ``over_limit`` follows from the measured power and its accuracy."""
    out: list[Finding] = []
    if doc.declared:
        return out
    for i, run in enumerate(doc.runs):
        if run.setting is not None and (run.ok or run.throughput.samples):
            out.extend(_limit_findings(i, run, run.setting))
    return out


@check("envelope")
def envelope_frontier(doc: Document) -> list[Finding]:
    """One stock value per envelope; the frontier recomputed and stated; over-limit points on it noted."""
    out: list[Finding] = []
    for env in envelopes(doc, "<file>"):
        stock = {setting_label(p.setting) for p in env.points if p.setting.stock}
        first = f"$.runs[{env.points[0].sized.run}]" if env.points else "$.runs"
        if len(stock) > 1:
            out.append(Finding("envelope", first, f"{env.title}: more than one stock setting ({', '.join(sorted(stock))})"))
        frontier = ", ".join(p.label for p in env.frontier)
        unsized = f", {len(env.skipped)} not sized" if env.skipped else ""
        out.append(Finding("envelope", first, f"{env.title}: {len(env.points)} point(s) sized{unsized}; frontier "
                                              f"recomputed: {frontier or 'none'}", "note"))
        for p in env.frontier:
            if p.setting.over_limit:
                out.append(Finding("envelope", f"$.runs[{p.sized.run}].setting.over_limit",
                                   f"{p.label} is on the frontier but ran over its limit: its figures are not the "
                                   "setting's own", "note"))
    return out
