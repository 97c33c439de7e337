"""Building the record of a finished run: the one place a measured :class:`~bench.record.Run` is made.

The runner, the pytest-benchmark plugin, ASIC miners and served endpoints all
end here: units and durations of the measured windows plus the sampler's
markers become the throughput, power and efficiency blocks, each computed by
:mod:`bench.record.figures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench.measure.phases import Phases
from bench.power.sampler import Sampler
from bench.power.window.block import power_block
from bench.power.window.thermal import run_thermal
from bench.record import Hardware, Phase, PowerBlock, Run, failed_run, figures, no_power
from bench.record.run import Status


@dataclass
class RunHead:
    """What a run is, before anything is measured."""

    workload: str
    device: str
    unit: str
    params: dict[str, object] = field(default_factory=dict)
    preset: str | None = None
    started: str | None = None
    hardware: Hardware | None = None

    def failed(self, status: Status, error: str, verified: bool = False) -> Run:
        """The record of this run when it measured nothing."""
        run = failed_run(self.workload, self.device, self.unit, status, error, params=self.params,
                         preset=self.preset, started=self.started, verified=verified)
        run.hardware = self.hardware
        return run


def flat_metrics(metrics: Mapping[str, object]) -> dict[str, object]:
    """Workload metrics as the record keeps them: flat values only (numbers, strings, booleans, null)."""
    out: dict[str, object] = {}
    for key, value in metrics.items():
        if value is None or isinstance(value, (bool, int, float, str)):
            out[str(key)[:200]] = value if not isinstance(value, str) else value[:2000]
        elif hasattr(value, "item"):  # numpy and torch scalars
            out[str(key)[:200]] = value.item()
    return out


def measured_run(head: RunHead, units: Sequence[float], durations: Sequence[float], *,
                 sampler: Sampler | None = None, t_ref: float = 0.0,
                 windows: Sequence[tuple[str, str]] = (), phases: Phases | list[Phase] | None = None,
                 power: PowerBlock | None = None, tail: bool = True, status: Status = "ok",
                 error: str | None = None, verified: bool = True, ceiling: float | None = None,
                 metrics: Mapping[str, object] | None = None) -> Run:
    """The record of a run whose measured windows did ``units[i]`` in ``durations[i]`` seconds.

    Power comes from ``sampler`` between the window markers ``windows`` (the
    run's ``<tag>/idle`` and ``<tag>/tail`` phases give the idle figures), or
    is given as ``power``; temperatures per window (``thermal``) from the same
    sampler's meters and its temperature sources (:mod:`bench.power.window.thermal`).
    ``phases`` is the runner's :class:`~bench.run.runner.Phases`
    or the phases themselves.
    """
    phase_list = phases if isinstance(phases, list) else (phases.phases if phases is not None else [])
    if power is None:
        if sampler is not None and phases is not None and not isinstance(phases, list) and windows:
            tag = phases.tag
            power = power_block(
                sampler, t_ref, list(windows), (f"{tag}/idle/start", f"{tag}/idle/end"),
                (f"{tag}/run/start", sampler.markers[-1].phase),
                (f"{tag}/tail/start", f"{tag}/tail/end") if tail else None, device=head.device)
        else:
            power = no_power()
    thr = figures.throughput(units, durations, head.unit)
    thermal = run_thermal(sampler, t_ref, phase_list, windows) if sampler is not None and phase_list else None
    return Run(
        workload=head.workload, device=head.device, params=head.params, preset=head.preset, started=head.started,
        hardware=head.hardware, status=status, error=error[:2000] if error else None, verified=verified,
        unit=head.unit, throughput=thr, power=power,
        efficiency=figures.efficiency(units, power.energy_j, head.unit),
        ceiling=ceiling, ceiling_fraction=figures.ceiling_fraction(thr.rate, ceiling),
        phases=list(phase_list), metrics=flat_metrics(metrics or {}), thermal=thermal,
    )
