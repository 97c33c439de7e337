"""Per-miner qualification rules: the ``[miners]`` table of a qualify spec, and PASS/FAIL per miner.

::

    [miners]
    min_ths = 100              # hash rate over the measured windows, TH/s
    max_j_per_th = 32          # J/TH over the same windows (whatever the power source; it is named)
    max_missing_chips = 0      # chips expected minus present (default 0: a missing chip FAILS)
    max_temp_c = 85            # hottest board or chip over the measured windows
    max_hw_error_rate = 0.001  # hardware errors per difficulty-1 nonce

Every rule is optional; the chips rule applies with its default whenever the model's expected
count is known. A figure a rule needs but the run does not hold fails the miner (it is not
taken as passing), except the chips and hardware-error rules, which note it. A miner that was not
measured, or not verified (pool shares against its counter), fails. Fleet outliers (``[outliers]``,
k x MAD as for GPUs) are judged among miners of the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.errors import UsageError
from bench.record import Run
from bench.record.miners import figures

KEYS = ("min_ths", "max_j_per_th", "max_missing_chips", "max_temp_c", "max_hw_error_rate")


@dataclass(frozen=True)
class MinerRules:
    """Limits every miner must meet (None: not checked)."""

    min_ths: float | None = None
    max_j_per_th: float | None = None
    max_missing_chips: int = 0
    max_temp_c: float | None = None
    max_hw_error_rate: float | None = None


def parse_rules(table: Any) -> MinerRules:
    """The ``[miners]`` table of a spec; one UsageError for anything wrong."""
    if not isinstance(table, dict):
        raise UsageError("spec: miners must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise UsageError(f"spec: unknown key miners.{unknown[0]} (known: {', '.join(KEYS)})")
    out: dict[str, Any] = {}
    for key, value in table.items():
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
        if key == "max_missing_chips":
            ok = ok and isinstance(value, int)
        elif key != "max_hw_error_rate":
            ok = ok and value > 0
        if not ok:
            what = "a whole number >= 0" if key == "max_missing_chips" else "a positive number"
            raise UsageError(f"spec: miners.{key} must be {what}, got {value!r}")
        out[key] = value if key == "max_missing_chips" else float(value)
    return MinerRules(**out)


def check(run: Run, rules: MinerRules) -> tuple[list[str], list[str]]:
    """``(reasons to FAIL, notes)`` of one miner's run against ``rules``."""
    if not run.ok:
        return [f"run {run.status}: {run.error or 'no error recorded'}"], []
    f = figures(run)
    reasons: list[str] = []
    notes: list[str] = []
    if not run.verified:
        reasons.append(f"not verified: {run.error or 'no reason recorded'}")
    if rules.min_ths is not None:
        if f.ths is None:
            reasons.append(f"hash rate not recorded (minimum {rules.min_ths:g} TH/s)")
        elif f.ths < rules.min_ths:
            reasons.append(f"hash rate {f.ths:.4g} TH/s below minimum {rules.min_ths:g} TH/s")
    if rules.max_j_per_th is not None:
        if f.j_per_th is None:
            reasons.append(f"J/TH not recorded: no power figure (maximum {rules.max_j_per_th:g} J/TH)")
        elif f.j_per_th > rules.max_j_per_th:
            reasons.append(f"{f.j_per_th:.4g} J/TH above maximum {rules.max_j_per_th:g} J/TH (power: {f.power})")
        if f.power in ("MODELLED", "firmware_estimate"):
            notes.append(f"J/TH from {f.power} power, not metered")
    missing = f.chips_missing
    if missing is None:
        notes.append("chips present or expected unknown: not checked")
    elif missing > rules.max_missing_chips:
        reasons.append(f"{missing} chip(s) missing: {f.chips} of {f.chips_expected} present "
                       f"(at most {rules.max_missing_chips} may be missing)")
    if rules.max_temp_c is not None:
        if f.temp_max_c is None:
            reasons.append(f"temperature not recorded (maximum {rules.max_temp_c:g} °C)")
        elif f.temp_max_c > rules.max_temp_c:
            reasons.append(f"{f.temp_max_c:.1f} °C above maximum {rules.max_temp_c:g} °C")
    if rules.max_hw_error_rate is not None:
        if f.hw_error_rate is None:
            notes.append("hardware-error rate not reported by the firmware: not checked")
        elif f.hw_error_rate > rules.max_hw_error_rate:
            reasons.append(f"hardware-error rate {f.hw_error_rate:.3%} above maximum {rules.max_hw_error_rate:.3%}")
    return reasons, notes
