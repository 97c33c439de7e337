"""Braiins OS+ power target: a :class:`~bench.power.knobs.knob.Knob` over the firmware's public gRPC API.

Braiins OS+ serves ``braiins.bos.v1`` on port 50051 (plain HTTP/2). sitebench logs in
(``AuthenticationService/Login``: the token comes back in the ``authorization`` header, and in the reply),
then, with that header on every call:

- reads the target from ``PerformanceService/GetTunerState`` (the tuner must be in power-target mode);
- reads the range and the stock target from ``ConfigurationService/GetConstraints`` (the tuner's
  power-target ``min``/``max``/``default``), so that a value outside it is refused before anything changes;
- sets it with ``PerformanceService/SetPowerTarget`` (``SAVE_AND_APPLY``), then reads it back.

The messages are encoded by :mod:`bench.miners.protocol.knobs.braiins_proto`; replies are capped at
1 MiB by the channel and every call has a deadline. The account (``root`` unless
``SITEBENCH_MINER_ACCOUNT`` says otherwise) and password (``SITEBENCH_MINER_PASSWORD``) come from the
environment and only ever travel to the miner's Login. grpcio is imported when a knob is first used
(the ``braiins`` extra). Every refusal is one line: a wrong password, a firmware without the method
(gRPC ``UNIMPLEMENTED``), a tuner not in power-target mode, a value out of range.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.miners.protocol.knobs import braiins_proto as proto
from bench.miners.protocol.knobs.credentials import ACCOUNT_ENV, PASSWORD_ENV, credentials, lacking, scrub
from bench.power.knobs.knob import Allowed, Knob, KnobFailed, KnobRefused, Value

#: Braiins OS+'s gRPC port.
GRPC_PORT = 50051
#: Seconds each call may take (a Login on a busy control board takes a second or two).
TIMEOUT_S = 10.0
#: The largest reply read.
MAX_REPLY_BYTES = 1 << 20
#: The account Braiins OS+ has out of the box.
DEFAULT_ACCOUNT = "root"
#: The firmware family name in a spec.
FIRMWARE = "braiins"


def grpc_module() -> Any:
    """grpcio, imported on first use.

    Raises:
        KnobRefused: grpcio is not installed (one line naming the extra).
    """
    try:
        import grpc
    except ImportError:
        raise KnobRefused("the Braiins OS+ power target speaks gRPC: install grpcio "
                          "(pip install 'sitebench[braiins]')") from None
    return grpc


class BraiinsPowerTarget(Knob):
    """The power target of one Braiins OS+ miner (W)."""

    kind = "miner.power_target"
    unit = "W"
    permission = f"the miner's API password in {PASSWORD_ENV} (account in {ACCOUNT_ENV}, default {DEFAULT_ACCOUNT})"
    #: The autotuner retunes for minutes after a change (a target tuned before comes back in seconds).
    settle_s = 180.0

    def __init__(self, host: str, port: int = GRPC_PORT, *, timeout_s: float = TIMEOUT_S) -> None:
        super().__init__(f"{host}:{port}")
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._token: str | None = None
        self._constraints: proto.PowerConstraints | None = None

    # --- the knob ------------------------------------------------------------------------------------------

    def read(self) -> Value:
        """The power target the tuner holds now (W).

        Raises:
            KnobRefused: the tuner is disabled or in hashrate-target mode; a wrong password; no such method.
            KnobFailed: no answer, or not the message expected.
        """
        state = self._decode(proto.tuner_state, self._call(proto.GET_TUNER_STATE, b"", "GetTunerState"),
                             "GetTunerState")
        if state.mode != "power":
            raise KnobRefused(f"{self.label}: its tuner is in {state.mode or 'no'} target mode, not power-target "
                              "mode: sitebench sweeps power targets only (nothing was changed)")
        if state.state == "disabled":
            raise KnobRefused(f"{self.label}: its tuner is disabled, so a power target would not be applied "
                              "(nothing was changed)")
        if state.power_target_w is None:
            raise KnobFailed(f"{self.label}: GetTunerState gave no current power target")
        return float(state.power_target_w)

    def allowed(self) -> Allowed:
        """The tuner's own power-target range (``GetConstraints``), asked once.

        Raises:
            KnobRefused: the firmware reports no power-target constraints (its range cannot be checked).
        """
        limits = self._limits()
        return Allowed(low=float(limits.low), high=float(limits.high))

    def stock(self) -> Value:
        """The tuner's default power target (``GetConstraints``)."""
        return float(self._limits().default)

    def missing_permission(self) -> str | None:
        """None when a password is in the environment (a wrong one is refused by the miner's Login)."""
        return lacking()

    def set(self, value: Value) -> None:
        """Ask the tuner to hold ``value`` W (saved and applied); the guard reads it back.

        Raises:
            KnobRefused: the miner refused the value, the password or the method.
            KnobFailed: no answer.
        """
        if isinstance(value, str):
            raise KnobRefused(f"{self.label}: {value!r} is not a number of W")
        watts = round(value)
        reply = self._call(proto.SET_POWER_TARGET, proto.set_power_target_request(watts), f"SetPowerTarget {watts} W")
        self._decode(proto.set_power_target_reply, reply, "SetPowerTarget")

    def spec(self) -> dict[str, Any]:
        """``{"kind", "target", "firmware": "braiins", "host", "port"}`` (no credentials)."""
        return {"kind": self.kind, "target": self.target, "firmware": FIRMWARE, "host": self.host, "port": self.port}

    # --- the API -------------------------------------------------------------------------------------------

    def _limits(self) -> proto.PowerConstraints:
        if self._constraints is None:
            reply = self._call(proto.GET_CONSTRAINTS, b"", "GetConstraints")
            found = self._decode(proto.power_constraints, reply, "GetConstraints")
            if found is None:
                raise KnobRefused(f"{self.label}: the firmware reports no power-target constraints (GetConstraints), "
                                  "so a target cannot be checked against its range; nothing was changed")
            self._constraints = found
        return self._constraints

    def _decode(self, parse: Callable[[bytes], Any], reply: bytes, what: str) -> Any:
        try:
            return parse(reply)
        except proto.BadProto as exc:
            raise KnobFailed(f"{self.label}: {what}: not the reply expected ({exc})") from None

    def _call(self, method: str, request: bytes, what: str) -> bytes:
        """One authenticated unary call (logging in first, and again once if the token has expired)."""
        grpc = grpc_module()
        options = [("grpc.max_receive_message_length", MAX_REPLY_BYTES), ("grpc.enable_retries", 0)]
        with grpc.insecure_channel(self.target, options=options) as channel:
            for attempt in range(2):
                token = self._token or self._login(channel)
                try:
                    reply: bytes = channel.unary_unary(method)(request, timeout=self.timeout_s,
                                                               metadata=(("authorization", token),))
                    return reply
                except grpc.RpcError as exc:
                    if exc.code() == grpc.StatusCode.UNAUTHENTICATED and attempt == 0 and self._token:
                        self._token = None  # expired: log in again once
                        continue
                    raise self._refusal(exc, what) from None
        raise KnobFailed(f"{self.label}: {what}: not authenticated")  # pragma: no cover - the loop returns or raises

    def _login(self, channel: Any) -> str:
        grpc = grpc_module()
        found = credentials(DEFAULT_ACCOUNT)
        if found is None:
            raise KnobRefused(f"{self.label}: {lacking()}")
        account, password = found
        try:
            reply, call = channel.unary_unary(proto.LOGIN).with_call(proto.login_request(account, password),
                                                                      timeout=self.timeout_s)
        except grpc.RpcError as exc:
            raise self._refusal(exc, "Login") from None
        header = dict(call.initial_metadata() or ()).get("authorization")
        token = header if isinstance(header, str) and header else self._decode(proto.login_token, reply, "Login")
        if not token:
            raise KnobFailed(f"{self.label}: Login gave no token")
        self._token = token
        return token

    def _refusal(self, exc: Any, what: str) -> Exception:
        """A gRPC error as one line: refused (exit 2) for the password, a missing method or a bad value."""
        grpc = grpc_module()
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        details = scrub(str(exc.details() if callable(getattr(exc, "details", None)) else exc) or "")
        name = getattr(code, "name", str(code))
        if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
            return KnobRefused(f"{self.label}: {what} refused: wrong account or password ({ACCOUNT_ENV}, {PASSWORD_ENV}) "
                               f"[{name}: {details}]; nothing was changed")
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return KnobRefused(f"{self.label}: the firmware has no {what.split()[0]} (gRPC UNIMPLEMENTED): "
                               "not Braiins OS+ with the public API v1; nothing was changed")
        if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.FAILED_PRECONDITION):
            return KnobRefused(f"{self.label}: {what} refused by the miner [{name}: {details}]")
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return KnobFailed(f"{self.label}: {what}: no answer ({name}: {details})")
        return KnobFailed(f"{self.label}: {what} failed [{name}: {details}]")


def open_spec(spec: dict[str, Any]) -> BraiinsPowerTarget:
    """The knob a journal's spec names (``recover``).

    Raises:
        KnobFailed: the spec does not say where the miner is.
    """
    host, port = spec.get("host"), spec.get("port")
    if not isinstance(host, str) or not host or not isinstance(port, int) or isinstance(port, bool):
        raise KnobFailed(f"a Braiins OS+ power target spec without host and port: {str(spec)[:200]}")
    return BraiinsPowerTarget(host, port)
