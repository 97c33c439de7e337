"""The few Braiins OS+ API messages sitebench sends and reads, as protobuf wire bytes.

Braiins OS+ publishes its public API as protobuf services under ``braiins.bos.v1`` (gRPC on port 50051;
the same definitions pyasic's client is generated from). sitebench uses five messages of it, so it encodes
and decodes them here by hand rather than vendoring generated code for a hundred: field numbers as in
``bos/v1`` (``authentication.proto``, ``performance.proto``, ``configuration.proto``, ``units.proto``)::

    LoginRequest            1 username (string), 2 password (string)
    LoginResponse           1 token (string), 2 timeout_s (uint32)
    Power                   1 watt (uint64)
    PowerConstraints        1 default, 2 min, 3 max (Power)
    TunerConstraints        1 power_target (PowerConstraints)
    GetConstraintsResponse  1 tuner_constraints (TunerConstraints)
    SetPowerTargetRequest   1 save_action (enum SaveAction: 2 SAVE_AND_APPLY), 2 power_target (Power)
    SetPowerTargetResponse  1 power_target (Power)
    GetTunerStateResponse   1 overall_tuner_state (enum TunerState), 2 power_target_mode_state,
                            3 hashrate_target_mode_state (one of)
    PowerTargetModeState    1 profile, 2 current_target (Power)

Decoding is bounded: the reply's size is capped by the channel, every length is checked against what is
left, varints stop at 10 bytes, and only the nesting the messages above have is ever followed. Anything
else raises :class:`BadProto` (one line).
"""

from __future__ import annotations

from dataclasses import dataclass

#: ``SaveAction.SAVE_AND_APPLY``: save the new target to the configuration and apply it now.
SAVE_AND_APPLY = 2
#: ``TunerState`` values.
TUNER_STATES = {0: "unspecified", 1: "disabled", 2: "stable", 3: "tuning", 4: "error"}
#: The largest power target believed (W): the biggest hydro units draw some 12 kW.
MAX_WATTS = 100_000

LOGIN = "/braiins.bos.v1.AuthenticationService/Login"
GET_TUNER_STATE = "/braiins.bos.v1.PerformanceService/GetTunerState"
SET_POWER_TARGET = "/braiins.bos.v1.PerformanceService/SetPowerTarget"
GET_CONSTRAINTS = "/braiins.bos.v1.ConfigurationService/GetConstraints"

Fields = dict[int, list[int | bytes]]


class BadProto(ValueError):
    """Bytes that are not the message expected."""


def varint(value: int) -> bytes:
    """``value`` (0 <= value < 2**64) as a protobuf varint."""
    if not 0 <= value < 1 << 64:
        raise BadProto(f"{value} does not fit a uint64")
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    """A varint field (wire type 0); proto3 leaves out a zero."""
    return varint(number << 3) + varint(value) if value else b""


def field_bytes(number: int, data: bytes) -> bytes:
    """A length-delimited field (wire type 2): a string, bytes or an embedded message."""
    return varint(number << 3 | 2) + varint(len(data)) + data


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(at, min(at + 10, len(data))):
        value |= (data[i] & 0x7F) << shift
        if not data[i] & 0x80:
            return value, i + 1
        shift += 7
    raise BadProto("a varint longer than 10 bytes or cut short")


def fields(data: bytes) -> Fields:
    """The fields of one message: number -> values (ints for varints and fixed, bytes for length-delimited).

    Raises:
        BadProto: a length past the end, a group (wire types 3 and 4) or an unknown wire type.
    """
    out: Fields = {}
    at = 0
    while at < len(data):
        key, at = _read_varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, at = _read_varint(data, at)
        elif wire == 2:
            size, at = _read_varint(data, at)
            if size > len(data) - at:
                raise BadProto(f"field {number}: {size} bytes announced, {len(data) - at} left")
            value, at = data[at:at + size], at + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if width > len(data) - at:
                raise BadProto(f"field {number}: cut short")
            value, at = int.from_bytes(data[at:at + width], "little"), at + width
        else:
            raise BadProto(f"field {number}: wire type {wire} is not used by these messages")
        if number == 0:
            raise BadProto("field number 0")
        out.setdefault(number, []).append(value)
    return out


def _last(found: Fields, number: int) -> int | bytes | None:
    """The last value of a field (protobuf: the last one wins), None when absent."""
    values = found.get(number)
    return values[-1] if values else None


def _int(found: Fields, number: int) -> int | None:
    value = _last(found, number)
    if value is not None and not isinstance(value, int):
        raise BadProto(f"field {number} is not a number")
    return value


def _bytes(found: Fields, number: int) -> bytes | None:
    value = _last(found, number)
    if value is not None and not isinstance(value, bytes):
        raise BadProto(f"field {number} is not a string or message")
    return value


def message(data: bytes, number: int) -> Fields | None:
    """The embedded message in field ``number`` of ``data``, None when absent."""
    inner = _bytes(fields(data), number)
    return None if inner is None else fields(inner)


def _watts(power: Fields | None) -> int | None:
    """A ``Power`` message's watts (absent ``Power``: None; proto3 absent ``watt``: 0)."""
    if power is None:
        return None
    watts = _int(power, 1) or 0
    if watts > MAX_WATTS:
        raise BadProto(f"a power of {watts} W is beyond any miner")
    return watts


def _power_in(found: Fields, number: int) -> int | None:
    inner = _bytes(found, number)
    return None if inner is None else _watts(fields(inner))


# --- requests (client) -------------------------------------------------------------------------------------


def login_request(username: str, password: str) -> bytes:
    """``LoginRequest``."""
    return field_bytes(1, username.encode()) + field_bytes(2, password.encode())


def set_power_target_request(watts: int, save_action: int = SAVE_AND_APPLY) -> bytes:
    """``SetPowerTargetRequest`` for ``watts`` W."""
    return field_varint(1, save_action) + field_bytes(2, field_varint(1, watts))


# --- replies (client) ---------------------------------------------------------------------------------------


def login_token(data: bytes) -> str | None:
    """The token field of a ``LoginResponse`` (None when empty)."""
    token = _bytes(fields(data), 1)
    return token.decode(errors="replace")[:4096] if token else None


@dataclass(frozen=True)
class TunerState:
    """What ``GetTunerState`` says: the tuner's state and, in power-target mode, its current target."""

    state: str
    mode: str | None
    """``power`` or ``hashrate`` (the target mode the tuner is in), None when it says neither."""
    power_target_w: int | None


def tuner_state(data: bytes) -> TunerState:
    """A ``GetTunerStateResponse``."""
    found = fields(data)
    code = _int(found, 1) or 0
    state = TUNER_STATES.get(code, f"state {code}")
    power_mode = _bytes(found, 2)
    if power_mode is not None:
        return TunerState(state, "power", _power_in(fields(power_mode), 2))
    return TunerState(state, "hashrate" if _bytes(found, 3) is not None else None, None)


@dataclass(frozen=True)
class PowerConstraints:
    """The tuner's power-target constraints (W)."""

    default: int
    low: int
    high: int


def power_constraints(data: bytes) -> PowerConstraints | None:
    """The power-target constraints in a ``GetConstraintsResponse`` (None when it gives none)."""
    tuner = message(data, 1)
    inner = None if tuner is None else _bytes(tuner, 1)
    if inner is None:
        return None
    found = fields(inner)
    default, low, high = (_power_in(found, n) for n in (1, 2, 3))
    if default is None or low is None or high is None:
        return None
    if not low <= default <= high or high == 0:
        raise BadProto(f"power-target constraints out of order: min {low}, default {default}, max {high} W")
    return PowerConstraints(default, low, high)


def set_power_target_reply(data: bytes) -> int | None:
    """The new target a ``SetPowerTargetResponse`` reports (W), None when absent."""
    return _power_in(fields(data), 1)


# --- the other side (the simulated miner in bench.testing.braiins_server) ------------------------------------


def login_fields(data: bytes) -> tuple[str, str]:
    """``(username, password)`` of a ``LoginRequest``."""
    found = fields(data)
    user, password = _bytes(found, 1) or b"", _bytes(found, 2) or b""
    return user.decode(errors="replace"), password.decode(errors="replace")


def login_response(token: str, timeout_s: int) -> bytes:
    """``LoginResponse``."""
    return field_bytes(1, token.encode()) + field_varint(2, timeout_s)


def requested_watts(data: bytes) -> tuple[int, int | None]:
    """``(save_action, watts)`` of a ``SetPowerTargetRequest`` (watts None when no target is given)."""
    found = fields(data)
    return _int(found, 1) or 0, _power_in(found, 2)


def power(watts: int) -> bytes:
    """A ``Power`` message."""
    return field_varint(1, watts)


def tuner_state_response(state: int, watts: int) -> bytes:
    """``GetTunerStateResponse`` in power-target mode at ``watts``."""
    return field_varint(1, state) + field_bytes(2, field_bytes(2, power(watts)))


def constraints_response(default: int, low: int, high: int) -> bytes:
    """``GetConstraintsResponse`` with the tuner's power-target constraints."""
    limits = field_bytes(1, power(default)) + field_bytes(2, power(low)) + field_bytes(3, power(high))
    return field_bytes(1, field_bytes(1, limits))


def set_power_target_response(watts: int) -> bytes:
    """``SetPowerTargetResponse``."""
    return field_bytes(1, power(watts))
