"""A simulated LuxOS miner: profiles, ATM and sessions on the cgminer-family API, over real TCP.

:class:`LuxosServer` listens on ``miner.host:4028`` for one :class:`~bench.testing.miners.SimMiner` of the
``luxos`` family (so it is served by this server, not by a :class:`~bench.testing.miners.SimFleet`). It
answers the commands LuxOS uses to set power, as pyasic's ``LUXMinerRPCAPI`` speaks them, and hands every
other request (``version``, ``summary+stats+pools+power``...) to the miner's own replies:

- ``profiles``: ``PROFILES``, one record per profile (``Profile Name``, ``Frequency``, ``Voltage``,
  ``Hashrate`` in TH/s, ``Watts``, ``IsTuned``), each a point on the miner's power curve;
- ``config``: ``CONFIG[0].Profile``, the profile in use; ``atm``: ``ATM[0].Enabled``...;
- ``session``, ``logon`` (no password; one session at a time), ``logoff SESSION``;
- ``profileset SESSION,NAME``: refused while ATM is on (as pyasic turns ATM off first) or with a wrong
  session; otherwise the miner is retargeted to the profile's watts, settling along its curve;
- ``atmset SESSION,enabled=true|false``.

A miner started on another profile than ``default`` should hold that profile's watts already
(``SimMiner(curve=..., limit_w=...)``). ``commands`` leaves some out (a firmware without them answers
``Invalid command``); ``requests`` records every command received, in order. MODELLED profiles: ``default``
at the curve's stock power and ``460MHz``, ``420MHz``, ``380MHz`` at 90%, 80% and 70% of it (LuxOS names a
profile by its frequency, ``default`` aside).
"""

from __future__ import annotations

import json
import secrets
import socketserver
import threading
from collections.abc import Iterable
from typing import Any

from bench.testing.miners import SimMiner

#: The commands this server answers itself.
COMMANDS = frozenset({"profiles", "config", "atm", "session", "logon", "logoff", "profileset", "atmset"})
#: MODELLED profiles: name -> fraction of the curve's stock power (LuxOS names a profile by its frequency).
PROFILES = {"380MHz": 0.70, "420MHz": 0.80, "460MHz": 0.90, "default": 1.0}
#: The frequency of the ``default`` profile (MHz, MODELLED).
DEFAULT_MHZ = 525
#: cgminer's ``Invalid command``.
_INVALID = {"STATUS": [{"STATUS": "E", "When": 1700000000, "Code": 14, "Msg": "Invalid command"}], "id": 1}


def _status(code: int, msg: str, *, ok: bool = True) -> list[dict[str, Any]]:
    return [{"STATUS": "S" if ok else "E", "When": 1700000000, "Code": code, "Msg": msg, "Description": "LUXminer 2024.1"}]


def _error(msg: str) -> dict[str, Any]:
    return {"STATUS": _status(45, msg, ok=False), "id": 1}


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class LuxosServer:
    """A LuxOS miner's API; a context manager that starts and stops it."""

    def __init__(self, miner: SimMiner, *, port: int = 4028, profile: str = "default", atm: bool = True,
                 commands: Iterable[str] = COMMANDS, profiles: dict[str, float] | None = None) -> None:
        if miner.curve is None:
            raise ValueError("a LuxOS miner needs a power curve (SimMiner(curve=PowerCurve(...)))")
        self.miner, self.port = miner, port
        self.fractions = dict(profiles or PROFILES)
        self.profile, self.atm = profile, atm
        self.commands = frozenset(commands)
        self.session: str | None = None
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def watts(self, profile: str) -> float:
        """The power (W) profile ``profile`` holds the miner at."""
        curve = self.miner.curve
        assert curve is not None
        return curve.stock_w * self.fractions[profile]

    def __enter__(self) -> LuxosServer:  # noqa: PYI034 - Self needs Python 3.11
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._handle(self.request)

        self._server = _Server((self.miner.host, self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="sim-luxos", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handle(self, sock: Any) -> None:
        sock.settimeout(5)
        data = b""
        try:
            while len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                data += chunk
                try:
                    request = json.loads(data)
                    break
                except ValueError:
                    continue
            else:
                return
            sock.sendall(self.reply(request) if isinstance(request, dict) else json.dumps(_INVALID).encode())
        except OSError:
            pass

    def reply(self, request: dict[str, Any]) -> bytes:
        """The bytes this miner answers ``request`` with."""
        command = str(request.get("command") or "")
        with self._lock:
            self.requests.append(command)
        if command not in COMMANDS:
            return self.miner.reply(request)
        if command not in self.commands:
            return json.dumps(_INVALID).encode()
        parameter = str(request.get("parameter") or "")
        with self._lock:
            answer = getattr(self, f"_{command}")(parameter)
        return json.dumps(answer).encode()

    def _profiles(self, parameter: str) -> dict[str, Any]:
        curve, records = self.miner.curve, []
        assert curve is not None
        for name in self.fractions:
            ths, watts = curve.point(self.watts(name))
            mhz = int(name[:-3]) if name.endswith("MHz") and name[:-3].isdigit() else DEFAULT_MHZ
            records.append({"Profile Name": name, "Frequency": mhz,
                            "Voltage": round(12.0 + 2.0 * self.fractions[name], 2), "Hashrate": round(ths, 2),
                            "Watts": round(watts), "IsTuned": True, "IsDynamic": False, "Step": "0"})
        return {"STATUS": _status(339, "Profiles"), "PROFILES": records, "id": 1}

    def _config(self, parameter: str) -> dict[str, Any]:
        return {"STATUS": _status(33, "LUXminer config"), "CONFIG": [{"Profile": self.profile, "IsAtmEnabled": self.atm}],
                "id": 1}

    def _atm(self, parameter: str) -> dict[str, Any]:
        return {"STATUS": _status(339, "ATM configuration values"), "ATM": [{
            "Enabled": self.atm, "MaxProfile": "default", "MinProfile": "380MHz", "PostRampMinutes": 15,
            "StartupMinutes": 15, "TempWindow": 7}], "id": 1}

    def _session(self, parameter: str) -> dict[str, Any]:
        return {"STATUS": _status(12, "Session"), "SESSION": [{"SessionID": self.session or ""}], "id": 1}

    def _logon(self, parameter: str) -> dict[str, Any]:
        if self.session is not None:
            return _error("Another session is active")
        self.session = secrets.token_hex(4)
        return {"STATUS": _status(12, "Session created"), "SESSION": [{"SessionID": self.session}], "id": 1}

    def _logoff(self, parameter: str) -> dict[str, Any]:
        if parameter != self.session:
            return _error("Invalid session id")
        self.session = None
        return {"STATUS": _status(12, "Session closed"), "id": 1}

    def _privileged(self, parameter: str) -> str | None:
        """The argument after the session id, None when the session id is wrong."""
        session, _, rest = parameter.partition(",")
        return rest if self.session is not None and session == self.session else None

    def _profileset(self, parameter: str) -> dict[str, Any]:
        name = self._privileged(parameter)
        if name is None:
            return _error("Invalid session id")
        if name not in self.fractions:
            return _error(f"Unknown profile {name}")
        if self.atm:
            return _error("Cannot set profile while ATM is enabled")
        self.profile = name
        self.miner.retarget(self.watts(name))
        return {"STATUS": _status(338, "Profile set"), "PROFILE": [{"Profile": name}], "id": 1}

    def _atmset(self, parameter: str) -> dict[str, Any]:
        setting = self._privileged(parameter)
        if setting is None:
            return _error("Invalid session id")
        if setting not in ("enabled=true", "enabled=false"):
            return _error(f"Invalid ATM setting {setting}")
        self.atm = setting == "enabled=true"
        return {"STATUS": _status(340, "Advanced Thermal Management configuration updated"), "id": 1}
