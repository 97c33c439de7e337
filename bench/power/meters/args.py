"""A number from a raw meter option, for :mod:`bench.power.meters.outlets` until it reads its map through
:func:`bench.power.spec.outlet_spec` (then delete this module).

Meter specs are parsed and typed in one place only: :class:`bench.power.spec.MeterSpec`.
"""

from __future__ import annotations

from bench.errors import MeterUnavailable


def float_option(options: dict[str, str], key: str, default: float, *, positive: bool = False) -> float:
    """``options[key]`` as a float, or ``default`` when absent.

    Raises:
        MeterUnavailable: the value is not a number (or not positive when ``positive``).
    """
    if key not in options:
        return default
    try:
        value = float(options[key])
    except ValueError:
        raise MeterUnavailable(f"option {key}={options[key]!r} is not a number") from None
    if positive and not value > 0:
        raise MeterUnavailable(f"option {key}={options[key]!r} must be positive")
    return value
