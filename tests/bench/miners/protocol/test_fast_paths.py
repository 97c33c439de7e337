"""The poll's fast paths give what the careful paths give: a board's hottest reading, and the nesting check."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bench.miners.protocol.cgminer import _max_of, temperature
from bench.miners.protocol.parse import too_deep

READING = st.sampled_from(["40", "0", "55.5", "nan", "inf", "-inf", "1,000", " 61 ", "", "999", "x", "1e308", "1_0"])


def careful(value: str) -> float | None:
    found = [v for v in (temperature(p) for p in value.split("-")[:64]) if v]
    return max(found) if found else None


@given(st.lists(READING, min_size=1, max_size=12))
def test_the_hottest_reading_is_what_reading_each_one_gives(parts: list[str]) -> None:
    value = "-".join(parts)
    assert _max_of(value) == careful(value)


def test_a_reply_that_opens_fewer_brackets_than_the_limit_is_not_too_deep() -> None:
    assert not too_deep(b'{"a":[{"b":"[[[[[[[[[["}]}', limit=3)
    assert too_deep(b'{"a":[{"b":[1]}]}', limit=3)
    assert not too_deep(b'{"a":"' + b"{" * 40 + b'"}', limit=32)
