"""What a run's power figures rest on: the phases, windows, meters and traces the file carries.

Every power figure of a measured file is recomputed from raw data in the same file: the energy from
the power trace over the measured windows (the ``window-N`` phases; :mod:`bench.validation.trace`),
the average from the energy and the windows' span, each meter's average from its energy and duration
(:mod:`bench.validation.derivation`). A figure whose ground is missing cannot be recomputed, and that
is itself a finding, never a way round the checks: a file with its ``phases`` removed, or its windows,
meters, traces, readings or durations, is refused where it still holds a figure that rested on them.

**Runs without phases.** Some runs legitimately carry no windows: a plain pytest-benchmark entry
converted by ``sitebench compare`` / :mod:`bench.benchmarking.convert` has timed rounds and nothing
else. Such a run's throughput is recomputed from its units and durations like any other run's, but it
holds no power figure at all: its power block is the one of a run without power (no energy, average,
peak, idle, window energies, cross-checks or meter figures, ``valid_for_sizing: false``, quality 0) and
its efficiency is null. It can therefore never be sized, compared on power or shown with an
efficiency, so removing the phases of a measured run gains a forger nothing. Every other producer
(``sitebench run``, the pytest plugin, ``serve``, ``import``, ``miners run``, ``recover``) writes the
``window-N`` phases of every run that has a power figure.

Declared files (``source: declared``) hold no raw samples and keep their own rules
(:func:`bench.validation.derivation.declared_figures`).
"""

from __future__ import annotations

from bench.record import Document, Run
from bench.validation.core import Finding, check
from bench.validation.derivation import measured


def _held(run: Run, *, idle: bool) -> list[str]:
    """The power figures a run holds (``idle``: the idle figures too)."""
    p = run.power
    keys = ["energy_j", "avg_w", "peak_w", "window_s", "unattributed_w"]
    keys += ["idle_before_w", "idle_after_w"] if idle else []
    out = [k for k in keys if getattr(p, k) is not None]
    out += ["window_energy_j"] if p.window_energy_j else []
    out += ["crosschecks"] if p.crosschecks else []
    out += ["valid_for_sizing"] if p.valid_for_sizing else []
    out += [f"quality level {p.quality.level}"] if p.quality.level > 0 else []
    out += ["efficiency.per_joule"] if run.efficiency.per_joule is not None else []
    meter_keys = ("energy_j", "avg_w", "peak_w", *(("idle_before_w", "idle_after_w") if idle else ()))
    out += [f"meters[{k}]" for k, m in enumerate(p.meters) if any(getattr(m, x) is not None for x in meter_keys)]
    return out


def _listed(held: list[str]) -> str:
    return ", ".join(held[:6]) + (f" and {len(held) - 6} more" if len(held) > 6 else "")


@check("power-basis")
def power_rests_on_windows_and_readings(doc: Document) -> list[Finding]:
    """A power figure needs the windows, energy, span, readings and durations it is recomputed from."""
    out: list[Finding] = []
    for i, run in measured(doc):
        p = run.power
        base = f"$.runs[{i}]"
        if not run.windows:
            held = _held(run, idle=True)
            if held:
                what = "no phases" if not run.phases else "no measured-window (window-N) phase"
                out.append(Finding("power-basis", f"{base}.phases",
                                   f"{what}, yet the run holds power figures ({_listed(held)}) that can only be "
                                   "recomputed over its windows; a run without windows carries no power figure"))
            continue
        if p.energy_j is None:
            held = _held(run, idle=False)
            if held:
                out.append(Finding("power-basis", f"{base}.power.energy_j",
                                   f"missing, yet the run holds figures that come from it ({_listed(held)})"))
            continue
        if p.window_s is None:
            out.append(Finding("power-basis", f"{base}.power.window_s",
                               "missing: the energy's span cannot be checked against the measured windows"))
        for k, m in enumerate(p.meters):
            if m.energy_j is None:
                continue
            lacking = [key for key in ("avg_w", "duration_s", "readings") if getattr(m, key) is None]
            if lacking:
                out.append(Finding("power-basis", f"{base}.power.meters[{k}]",
                                   f"an energy figure without its {', '.join(lacking)}: its average and readings "
                                   "cannot be checked"))
    return out
