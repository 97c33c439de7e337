"""A miner's figures as every command reads them from its run record (qualify, report, size, the run table).

Nothing is stored twice: TH/s is the run's ``throughput.rate``, J/TH is 1e12 / ``efficiency.per_joule``
(the one definition, :mod:`bench.record.figures`), chips come from ``hardware``, the hottest board or
chip from the ``miner-api`` meter's ``telemetry_summary`` (keys ending ``_temp_c``, as
:mod:`bench.miners.measure.telemetry` writes them), the hardware-error rate from ``metrics``.
Here, on the record's floor, so that the readers of the record need nothing of the miners front end.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.record.power import TelemetrySummary
from bench.record.run import Run


def is_miner(run: Run) -> bool:
    """A run of an ASIC miner: ``hardware.kind == "asic"``, or device ``asic:HOST`` (a host named as a miner
    that did not answer as one, recorded failed)."""
    return (run.hardware is not None and run.hardware.kind == "asic") or run.device.startswith("asic:")


def max_temperature(s: TelemetrySummary | None) -> float | None:
    """The highest board or chip temperature in a summary (degrees C), None when none was reported."""
    temps = [v.max for k, v in (s.series.items() if s else []) if k.endswith("_temp_c")]
    return max(temps) if temps else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class MinerFigures:
    """One miner's qualification figures (None: not recorded)."""

    key: str
    make: str
    model: str
    firmware: str
    ths: float | None
    watts: float | None
    j_per_th: float | None
    power: str
    chips: int | None
    chips_expected: int | None
    temp_max_c: float | None
    hw_error_rate: float | None

    @property
    def chips_missing(self) -> int | None:
        """Expected minus present chips, None when either is unknown."""
        if self.chips is None or self.chips_expected is None:
            return None
        return max(self.chips_expected - self.chips, 0)


def power_label(run: Run) -> str:
    """``outlet +/-3%``, ``firmware_estimate``, ``MODELLED`` or ``none``: where the run's power figure comes from."""
    p = run.power
    if p.avg_w is None:
        return "none"
    if p.modelled:
        return "MODELLED"
    chosen = p.primary
    if chosen and chosen[0].scope == "wall":
        acc = chosen[0].accuracy
        return "outlet" + (f" ±{acc:.0%}" if acc is not None else " (accuracy unstated)")
    return chosen[0].method if chosen else "?"


def figures(run: Run) -> MinerFigures:
    """The figures of one miner's run."""
    hw = run.hardware
    details = hw.details if hw is not None else {}
    expected = details.get("chips_expected")
    temps = [t for t in (max_temperature(m.telemetry_summary) for m in run.power.meters) if t is not None]
    temp = max(temps) if temps else _number(run.metrics.get("temp_max_c"))
    rate, per_j = run.throughput.rate, run.efficiency.per_joule
    return MinerFigures(
        key=run.device, make=(hw.make if hw else None) or "?", model=(hw.model if hw else None) or "?",
        firmware=(hw.firmware if hw else None) or "?", ths=rate / 1e12 if rate is not None else None,
        watts=run.power.avg_w, j_per_th=1e12 / per_j if per_j else None, power=power_label(run),
        chips=hw.chips if hw else None, chips_expected=int(expected) if isinstance(expected, int) else None,
        temp_max_c=temp, hw_error_rate=_number(run.metrics.get("hw_error_rate")),
    )
