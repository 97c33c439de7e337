"""A simulated Braiins OS+ public gRPC API (``braiins.bos.v1``) over real HTTP/2 on a loopback address.

:class:`BraiinsServer` serves, for one :class:`~bench.testing.miners.SimMiner` (which serves the
cgminer-family API on 4028 from a :class:`~bench.testing.miners.SimFleet`), the methods sitebench's power
target knob calls, on ``miner.host:50051``:

- ``AuthenticationService/Login``: the account and password must match; the token is sent in the
  ``authorization`` header (and in the reply), and every other method requires it (``UNAUTHENTICATED``);
- ``PerformanceService/GetTunerState``: power-target mode at the miner's target, ``TUNING`` while it settles;
- ``ConfigurationService/GetConstraints``: the power target's ``min`` (the curve's floor), ``max`` and
  ``default`` (its stock power);
- ``PerformanceService/SetPowerTarget``: out of range is ``INVALID_ARGUMENT``; otherwise the miner is
  retargeted, its hash rate and power moving along its power curve (``miner.curve``) as they settle.

``methods`` leaves some out (a firmware without them: gRPC answers ``UNIMPLEMENTED``); ``tuner_mode``
``"hashrate"`` or ``tuner_enabled=False`` make the tuner refuse a power target; ``calls`` records the
methods called, in order (never the password). Needs grpcio (the ``braiins`` extra).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.miners.protocol.knobs import braiins_proto as proto
from bench.miners.protocol.knobs.braiins import GRPC_PORT, grpc_module
from bench.testing.miners import SimMiner

#: Every method the simulated firmware has.
METHODS = frozenset({"Login", "GetTunerState", "GetConstraints", "SetPowerTarget"})


class BraiinsServer:
    """Braiins OS+'s gRPC API for one simulated miner; a context manager that starts and stops it."""

    def __init__(self, miner: SimMiner, *, port: int = GRPC_PORT, account: str = "root", password: str = "root",
                 methods: Iterable[str] = METHODS, tuner_mode: str = "power", tuner_enabled: bool = True) -> None:
        if miner.curve is None:
            raise ValueError("a Braiins OS+ miner needs a power curve (SimMiner(curve=PowerCurve(...)))")
        self.miner, self.port, self.account, self.password = miner, port, account, password
        self.methods = frozenset(methods)
        self.tuner_mode, self.tuner_enabled = tuner_mode, tuner_enabled
        self.calls: list[str] = []
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._server: Any = None

    @property
    def constraints(self) -> tuple[int, int, int]:
        """``(default, min, max)`` power target (W)."""
        curve = self.miner.curve
        assert curve is not None
        return round(curve.stock_w), round(curve.floor_w), round(curve.stock_w)

    def __enter__(self) -> BraiinsServer:  # noqa: PYI034 - Self needs Python 3.11
        grpc = grpc_module()
        handlers: dict[str, dict[str, Any]] = {}
        for path, method in ((proto.LOGIN, self._login), (proto.GET_TUNER_STATE, self._tuner_state),
                             (proto.GET_CONSTRAINTS, self._constraints), (proto.SET_POWER_TARGET, self._set)):
            service, name = path.strip("/").split("/")
            if name in self.methods:
                handlers.setdefault(service, {})[name] = grpc.unary_unary_rpc_method_handler(self._recorded(name, method))
        self._server = grpc.server(ThreadPoolExecutor(max_workers=4, thread_name_prefix="sim-braiins"))
        self._server.add_generic_rpc_handlers(
            tuple(grpc.method_handlers_generic_handler(service, table) for service, table in handlers.items()))
        if self._server.add_insecure_port(f"{self.miner.host}:{self.port}") == 0:
            raise OSError(f"cannot listen on {self.miner.host}:{self.port}")
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop(grace=None).wait(timeout=5)

    def _recorded(self, name: str, method: Callable[[bytes, Any], bytes]) -> Callable[[bytes, Any], bytes]:
        def call(request: bytes, context: Any) -> bytes:
            with self._lock:
                self.calls.append(name)
            return method(request, context)
        return call

    def _authorized(self, context: Any) -> None:
        token = dict(context.invocation_metadata() or ()).get("authorization")
        with self._lock:
            known = token in self._tokens
        if not known:
            context.abort(grpc_module().StatusCode.UNAUTHENTICATED, "missing or invalid authorization token")

    def _login(self, request: bytes, context: Any) -> bytes:
        account, password = proto.login_fields(request)
        if not (secrets.compare_digest(account, self.account) and secrets.compare_digest(password, self.password)):
            context.abort(grpc_module().StatusCode.UNAUTHENTICATED, "Invalid username or password")
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._tokens.add(token)
        context.send_initial_metadata((("authorization", token),))
        return proto.login_response(token, 3600)

    def _tuner_state(self, request: bytes, context: Any) -> bytes:
        self._authorized(context)
        if self.tuner_mode == "hashrate":  # HashrateTargetModeState with an empty profile
            return proto.field_varint(1, 2) + proto.field_bytes(3, b"")
        stable = self.miner.state().stable
        state = 1 if not self.tuner_enabled else 2 if stable else 3
        target = self.miner.target_w
        return proto.tuner_state_response(state, round(target if target is not None else self.constraints[0]))

    def _constraints(self, request: bytes, context: Any) -> bytes:
        self._authorized(context)
        return proto.constraints_response(*self.constraints)

    def _set(self, request: bytes, context: Any) -> bytes:
        self._authorized(context)
        grpc = grpc_module()
        _default, low, high = self.constraints
        try:
            watts = proto.requested_watts(request)[1]
        except proto.BadProto as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"malformed request: {exc}")
            raise AssertionError("abort raises") from None
        if watts is None or not low <= watts <= high:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"power target {watts} W is out of range ({low} W - {high} W)")
            raise AssertionError("abort raises")
        if self.tuner_mode != "power" or not self.tuner_enabled:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "the tuner is not in power-target mode")
        self.miner.retarget(float(watts))
        return proto.set_power_target_response(watts)
