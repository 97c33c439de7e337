"""Messy replies: what real miners send is repaired where unambiguous, refused where cut short."""

from __future__ import annotations

import pytest

from bench.miners.protocol.parse import (
    MAX_COUNT,
    MAX_HASHES,
    MAX_POWER_W,
    BadReply,
    CommandFailed,
    bounded,
    check_status,
    count,
    decode,
    edge,
    integer,
    items,
    mapping,
    num,
    power,
    rates,
    text,
    too_deep,
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


# --- hostile replies: refused at this edge, never a RecursionError, OverflowError or TypeError -----------------

def test_a_reply_nested_deeper_than_the_limit_is_refused_before_the_parser_sees_it() -> None:
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    with pytest.raises(BadReply, match="nested deeper than 32"):
        decode(deep)
    with pytest.raises(BadReply, match="nested deeper than 4"):
        decode(b'{"a":[[[[[1]]]]]}', max_depth=4)
    assert not too_deep(b'{"a":[[[[1]]]]}', 5) and too_deep(b'{"a":[[[[[1]]]]]}', 5)


def test_brackets_inside_strings_do_not_count_and_an_unterminated_string_costs_linear_time() -> None:
    (doc,) = decode(b'{"MM ID0": "' + b"[" * 5000 + b'", "b": 1}')
    assert doc["b"] == 1
    assert not too_deep(b'"\\"' * 300_000)  # quotes and escapes that never close: one pass, not quadratic


def test_an_integer_of_thousands_of_digits_is_refused_and_a_huge_one_is_no_number() -> None:
    with pytest.raises(BadReply, match="not JSON a miner sends"):
        decode(b'{"Elapsed": ' + b"9" * 5000 + b"}")
    assert num(10**400) is None and num(-(10**400)) is None and num("1e999") is None and num(1e308) == 1e308


@pytest.mark.parametrize("value", [1e308 * 10, 1e308, float("nan"), -1.0, "nan", "1e999", [1], {"a": 1}, True, None])
def test_a_counter_out_of_its_bounds_refuses_the_reply(value: object) -> None:
    with pytest.raises(BadReply, match="Total MH is .*not a count in 0..1e"):
        count({"Total MH": value}, "Total MH", MAX_HASHES / 1e6)


def test_a_counter_in_bounds_or_absent() -> None:
    assert count({"Total MH": "3.87e11"}, "Total MH", MAX_HASHES) == 3.87e11
    assert count({"Accepted": 0}, "Accepted", MAX_COUNT) == 0.0 and count({}, "Accepted", MAX_COUNT) is None


def test_the_firmware_power_zero_is_not_measured_and_a_power_no_miner_draws_is_refused() -> None:
    assert power(0, "Power") is None and power("N/A", "Power") is None and power(None, "Power") is None
    assert power("3250", "Power") == 3250.0
    for bad in (-300, 1e308, float("nan"), float("inf"), "1e999", 2 * MAX_POWER_W):
        with pytest.raises(BadReply, match="not a miner's power"):
            power(bad, "Power")


def test_telemetry_out_of_range_is_left_out_not_clipped() -> None:
    assert bounded(1e308, 0, 100) is None and bounded(50, 0, 100) == 50.0 and integer(1e308) is None
    assert integer(-3) is None and integer("76", 0, 10_000) == 76


def test_identity_and_layout_fields_of_the_wrong_type_are_one_bad_reply() -> None:
    record = {"type": "M60", "sn": 123, "miner": "M60", "edevs": 5, "list": [1]}
    assert text(record, "type") == "M60" and text(record, "sn") == "123" and text(record, "none", "?") == "?"
    with pytest.raises(BadReply, match="list is a list, not text"):
        text(record, "list")
    with pytest.raises(BadReply, match="miner is 'M60', not an object"):
        mapping(record, "miner")
    with pytest.raises(BadReply, match="edevs is 5, not a list"):
        items(record, "edevs")
    assert mapping({}, "miner") == {} and items({"edevs": None}, "edevs") == []


def test_the_edge_turns_anything_a_reply_of_unforeseen_shape_raises_into_one_bad_reply_naming_the_miner() -> None:
    @edge(lambda name, reply: name)
    def normalise(name: str, reply: dict[str, object]) -> object:
        return reply["missing"]

    with pytest.raises(BadReply, match=r"^10.0.0.5:4028: a reply of unexpected shape \(KeyError"):
        normalise("10.0.0.5:4028", {})

    @edge(lambda name: name)
    def refuses(name: str) -> None:
        raise BadReply("Total MH is inf")

    with pytest.raises(BadReply, match=r"^10.0.0.5:4028: Total MH is inf$"):
        refuses("10.0.0.5:4028")
