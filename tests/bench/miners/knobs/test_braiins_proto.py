"""The Braiins OS+ messages as protobuf wire bytes: the encoding checked against the protobuf specification's own
examples, round trips, and bounded decoding of hostile bytes."""

from __future__ import annotations

import pytest

from bench.miners.protocol.knobs import braiins_proto as proto


def test_varints_are_the_specifications_examples() -> None:
    assert proto.varint(1) == b"\x01"
    assert proto.varint(150) == b"\x96\x01", "the protobuf encoding guide's example"
    assert proto.varint(300) == b"\xac\x02"
    assert proto.varint(2**64 - 1) == b"\xff" * 9 + b"\x01"
    with pytest.raises(proto.BadProto):
        proto.varint(2**64)


def test_requests_on_the_wire() -> None:
    # field 1 (tag 0x0a) "root", field 2 (tag 0x12) "pw"
    assert proto.login_request("root", "pw") == b"\x0a\x04root\x12\x02pw"
    # save_action SAVE_AND_APPLY (tag 0x08, 2), power_target (tag 0x12) Power{watt 2400: tag 0x08, 0xe0 0x12}
    assert proto.set_power_target_request(2400) == b"\x08\x02\x12\x03\x08\xe0\x12"
    assert proto.requested_watts(proto.set_power_target_request(2400)) == (2, 2400)
    assert proto.login_fields(proto.login_request("root", "")) == ("root", "")


def test_replies_decode() -> None:
    assert proto.login_token(proto.login_response("tok3n", 3600)) == "tok3n"
    assert proto.login_token(b"") is None
    state = proto.tuner_state(proto.tuner_state_response(3, 2850))
    assert state == proto.TunerState("tuning", "power", 2850)
    hashrate_mode = proto.tuner_state(proto.field_varint(1, 2) + proto.field_bytes(3, b""))
    assert hashrate_mode == proto.TunerState("stable", "hashrate", None)
    assert proto.power_constraints(proto.constraints_response(2850, 1425, 2850)) == proto.PowerConstraints(
        2850, 1425, 2850)
    assert proto.power_constraints(b"") is None, "no tuner constraints"
    assert proto.set_power_target_reply(proto.set_power_target_response(1900)) == 1900
    # fields the messages do not use (a newer firmware's) are skipped: fixed32, fixed64, another string
    extra = b"\x25\x01\x02\x03\x04" + b"\x29" + b"\x00" * 8 + b"\x3a\x01x"
    assert proto.set_power_target_reply(proto.set_power_target_response(1900) + extra) == 1900


@pytest.mark.parametrize("data, why", [
    (b"\x0a\x05ab", "5 bytes announced, 2 left"),
    (b"\x08" + b"\xff" * 11, "varint longer than 10 bytes"),
    (b"\x08", "cut short"),
    (b"\x0b", "wire type 3"),
    (b"\x25\x01", "cut short"),
    (b"\x02\x00", "field number 0"),
])
def test_hostile_bytes_are_one_error(data: bytes, why: str) -> None:
    with pytest.raises(proto.BadProto, match=why):
        proto.fields(data)


def test_wrong_shapes_and_impossible_figures_are_refused() -> None:
    with pytest.raises(proto.BadProto, match="not a string or message"):
        proto.set_power_target_reply(b"\x08\x01")  # power_target as a varint
    with pytest.raises(proto.BadProto, match="beyond any miner"):
        proto.set_power_target_reply(proto.set_power_target_response(10**9))
    with pytest.raises(proto.BadProto, match="out of order"):
        proto.power_constraints(proto.constraints_response(5000, 1425, 2850))
