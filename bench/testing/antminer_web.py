"""A simulated stock Antminer web interface: work modes behind HTTP digest authentication, over real HTTP.

:class:`AntminerWeb` serves, for one :class:`~bench.testing.miners.SimMiner` (whose cgminer-family API a
:class:`~bench.testing.miners.SimFleet` serves on 4028), the two CGIs stock Bitmain firmware changes its
work mode through (as pyasic's ``AntminerModernWebAPI`` calls them), on ``miner.host:port``:

- ``GET /cgi-bin/get_miner_conf.cgi``: the configuration (pools, fan, frequency level, and
  ``bitmain-work-mode``: ``"0"`` normal, ``"1"`` sleep, ``"3"`` low power);
- ``POST /cgi-bin/set_miner_conf.cgi``: a JSON configuration with ``miner-mode``. Like the firmware it
  takes the whole configuration from the body: pools left out of it are gone. It answers
  ``{"stats": "success", "code": "M000", "msg": "OK!"}``, and the miner moves along its power curve to the
  mode's power (MODELLED: normal at the curve's stock power, low power at the S19j Pro's declared
  underclocked point, 1,905 of 2,850 W; a sleeping miner is not simulated and keeps hashing).

Both require digest authentication (realm ``antMiner Configuration``, MD5, ``qop=auth``), verified here
by its own arithmetic (RFC 7616), so that the client's digest (the standard library's) is checked against
an independent implementation. ``work_modes=False`` gives a firmware without modes (no
``bitmain-work-mode``); ``cgi=False`` one without the CGIs (HTTP 404); ``posted`` records the bodies
received, ``requests`` every request (method and path).
"""

from __future__ import annotations

import copy
import hashlib
import http.server
import json
import secrets
import threading
import urllib.request
from typing import Any

from bench.testing.miners import SimMiner
from bench.testing.power_curve import S19J_PRO_STOCK, S19J_PRO_UNDERCLOCKED

REALM = "antMiner Configuration"
#: MODELLED: the power of each mode, as a fraction of the curve's stock power.
MODE_POWER = {0: 1.0, 3: S19J_PRO_UNDERCLOCKED[1] / S19J_PRO_STOCK[1]}
MODES = (0, 1, 3)

#: A stock S19j Pro's configuration as get_miner_conf gives it.
CONFIG: dict[str, Any] = {
    "pools": [{"url": "stratum+tcp://pool.invalid:3333", "user": "site.worker1", "pass": "x"},
              {"url": "stratum+tcp://backup.invalid:443", "user": "site.worker1", "pass": "x"},
              {"url": "", "user": "", "pass": ""}],
    "api-listen": True, "api-network": True, "api-groups": "A:stats:pools:devs:summary:version",
    "api-allow": "A:0/0,W:*", "bitmain-fan-ctrl": False, "bitmain-fan-pwm": "100", "bitmain-use-vil": True,
    "bitmain-freq": "525", "bitmain-voltage": "1360", "bitmain-ccdelay": "0", "bitmain-pwth": "0",
    "bitmain-work-mode": "0", "freq-level": "100",
}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class AntminerWeb:
    """A stock Antminer's web interface; a context manager that starts and stops it."""

    def __init__(self, miner: SimMiner, *, port: int = 80, account: str = "root", password: str = "root",
                 mode: int = 0, work_modes: bool = True, cgi: bool = True) -> None:
        if miner.curve is None:
            raise ValueError("an Antminer with work modes needs a power curve (SimMiner(curve=PowerCurve(...)))")
        self.miner, self.port, self.account, self.password = miner, port, account, password
        self.conf = copy.deepcopy(CONFIG)
        self.conf["bitmain-work-mode"] = str(mode)
        if not work_modes:
            del self.conf["bitmain-work-mode"]
        self.cgi = cgi
        self.posted: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def mode(self) -> int | None:
        """The work mode configured now (None: the firmware has none)."""
        raw = self.conf.get("bitmain-work-mode")
        return None if raw is None else int(raw)

    def __enter__(self) -> AntminerWeb:  # noqa: PYI034 - Self needs Python 3.11
        web = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server interface
                web._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                web._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer((self.miner.host, self.port), Handler)  # reuses the address
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="sim-antminer-web", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- digest authentication -------------------------------------------------------------------------------

    def _authorized(self, handler: http.server.BaseHTTPRequestHandler) -> bool:
        header = handler.headers.get("Authorization") or ""
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "digest":
            return False
        fields = urllib.request.parse_keqv_list([p for p in urllib.request.parse_http_list(params) if p])
        nonce, uri = fields.get("nonce", ""), fields.get("uri", "")
        with self._lock:
            issued = nonce in self._nonces
        if not issued or uri != handler.path or fields.get("username") != self.account \
                or fields.get("realm") != REALM or fields.get("qop") != "auth":
            return False
        ha1 = _md5(f"{self.account}:{REALM}:{self.password}")
        ha2 = _md5(f"{handler.command}:{uri}")
        expected = _md5(f"{ha1}:{nonce}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:auth:{ha2}")
        return secrets.compare_digest(expected, fields.get("response", ""))

    def _challenge(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces.add(nonce)
        handler.send_response(401)
        handler.send_header("WWW-Authenticate", f'Digest realm="{REALM}", nonce="{nonce}", qop="auth"')
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    # --- the CGIs --------------------------------------------------------------------------------------------

    def _handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        size = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(min(size, 1 << 20)) if size else b""
        with self._lock:
            self.requests.append(f"{handler.command} {handler.path}")
        if not self._authorized(handler):
            self._challenge(handler)
            return
        route = (handler.command, handler.path)
        if not self.cgi or route not in (("GET", "/cgi-bin/get_miner_conf.cgi"), ("POST", "/cgi-bin/set_miner_conf.cgi")):
            self._send(handler, 404, b"Not Found")
            return
        if handler.command == "GET":
            with self._lock:
                answer = json.dumps(self.conf).encode()
            self._send(handler, 200, answer)
            return
        self._send(handler, 200, json.dumps(self._set(body)).encode())

    def _set(self, body: bytes) -> dict[str, Any]:
        try:
            conf = json.loads(body)
        except ValueError:
            return {"stats": "error", "code": "M001", "msg": "bad json"}
        if not isinstance(conf, dict):
            return {"stats": "error", "code": "M001", "msg": "not a configuration"}
        with self._lock:
            self.posted.append(conf)
        mode = conf.get("miner-mode")
        if not isinstance(mode, int) or isinstance(mode, bool) or mode not in MODES:
            return {"stats": "error", "code": "M002", "msg": f"invalid miner-mode {str(mode)[:20]}"}
        with self._lock:
            self.conf["pools"] = conf.get("pools", [])  # the whole configuration comes from the body
            for key in ("bitmain-fan-ctrl", "bitmain-fan-pwm", "freq-level"):
                if key in conf:
                    self.conf[key] = conf[key]
            if "bitmain-work-mode" in self.conf:
                self.conf["bitmain-work-mode"] = str(mode)
        curve = self.miner.curve
        if mode in MODE_POWER and curve is not None:
            self.miner.retarget(curve.stock_w * MODE_POWER[mode])
        return {"stats": "success", "code": "M000", "msg": "OK!"}

    def _send(self, handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
