"""A knob's own checks refuse NaN and infinities, as numbers and as sweep words."""

from __future__ import annotations

import math

import pytest

from bench.power.knobs.knob import Allowed, KnobRefused


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_allowed_refuses_non_finite(value: float) -> None:
    with pytest.raises(KnobRefused, match="not a finite number"):
        Allowed(low=100.0, high=700.0).check(value, "W", "gpu.power_limit on gpu:0")


def test_allowed_keeps_range() -> None:
    Allowed(low=100.0, high=700.0).check(400.0, "W", "x")
    with pytest.raises(KnobRefused, match="outside the device's own range"):
        Allowed(low=100.0, high=700.0).check(701.0, "W", "x")
