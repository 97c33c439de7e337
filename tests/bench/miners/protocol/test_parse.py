"""Messy replies: what real miners send is repaired where unambiguous, refused where cut short."""

from __future__ import annotations

import pytest

from bench.miners.protocol.parse import (
    BadReply,
    CommandFailed,
    check_status,
    decode,
    integer,
    num,
    rates,
    unit_scale,
)


def test_nul_bytes_and_joined_replies_without_a_separator_decode_in_order() -> None:
    raw = b'{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"Elapsed":5}]}{"STATUS":[{"STATUS":"S"}],"STATS":[]}\x00'
    first, second = decode(raw)
    assert first["SUMMARY"][0]["Elapsed"] == 5 and second["STATS"] == []


def test_bare_non_finite_numbers_become_null_never_zero() -> None:
    (doc,) = decode(b'{"a": inf, "b": -nan, "c": [nan, 1], "d": "inf", "e": Infinity}')
    assert doc["a"] is None and doc["b"] is None and doc["c"] == [None, 1] and doc["e"] is None
    assert num(doc["d"]) is None and num("nan") is None


def test_stray_commas_of_btminer_and_bmminer_are_repaired() -> None:
    (doc,) = decode(b'{"SUMMARY":[,{"Power":3200,}],}')
    assert doc == {"SUMMARY": [{"Power": 3200}]}


@pytest.mark.parametrize("raw, message", [
    (b'{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"Elapsed":5,"GHS', "truncated JSON"),
    (b"", "empty reply"),
    (b"\x00\x00", "empty reply"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "not JSON"),
    (b"[1, 2]", "not an object"),
])
def test_truncated_or_foreign_replies_are_refused_not_patched(raw: bytes, message: str) -> None:
    with pytest.raises(BadReply, match=message):
        decode(raw)


def test_numbers_as_strings_and_units_to_hashes_per_second() -> None:
    assert num("95123.45") == 95123.45 and num("1,234.5") == 1234.5 and num(True) is None and integer("76") == 76
    got = rates({"GHS 5s": "95000.5", "MHS av": 9.5e7, "THS 1m": 0.1, "KHS 15m": "2", "Elapsed": 9, "GHS 30m": "inf"})
    assert got == {"5s": pytest.approx(9.50005e13), "av": pytest.approx(9.5e13), "1m": pytest.approx(1e11),
                   "15m": pytest.approx(2e3)}
    assert unit_scale("GH/s") == 1e9 and unit_scale("TH") == 1e12 and unit_scale(None) == 1e9 and unit_scale("H/s") == 1.0


def test_status_e_is_a_refused_command_in_both_reply_styles() -> None:
    with pytest.raises(CommandFailed, match="Invalid command"):
        check_status({"STATUS": [{"STATUS": "E", "Msg": "Invalid command"}]}, "summary+stats")
    with pytest.raises(CommandFailed, match="can't access write cmd"):
        check_status({"STATUS": "E", "Msg": "can't access write cmd"}, "get_token")
    check_status({"STATUS": [{"STATUS": "S"}]}, "summary")
    check_status({"STATUS": "S", "Msg": {"fw_ver": "x"}}, "get_version")
