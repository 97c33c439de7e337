"""The one grammar of sweep points: numbers, ranges, stock words and mode names (a LuxOS profile's own)."""

from __future__ import annotations

import pytest

from bench.errors import UsageError
from bench.power.knobs.points import parse_points


def test_a_mode_that_starts_with_a_digit_is_a_mode_not_a_bad_number() -> None:
    assert parse_points("--power-target", "395MHz,default") == ["395MHz", "default"]


def test_numbers_must_be_positive() -> None:
    with pytest.raises(UsageError, match="must be a positive number"):
        parse_points("--power-target", "0,2400")
    with pytest.raises(UsageError, match="0 < LOW"):
        parse_points("--power-limit", "0:300:100")
