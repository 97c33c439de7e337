"""Stock Antminer work modes: a :class:`~bench.power.knobs.knob.Knob` whose values are ``normal`` and ``low-power``.

Stock Bitmain firmware offers no power target, only work modes, through the web interface's CGIs behind
HTTP digest authentication (as pyasic's ``AntminerModernWebAPI`` speaks them):

- ``GET /cgi-bin/get_miner_conf.cgi``: the configuration, the mode in ``bitmain-work-mode``
  (``"0"`` normal, ``"1"`` sleep, ``"3"`` low power);
- ``POST /cgi-bin/set_miner_conf.cgi``: a JSON configuration with ``miner-mode``. The firmware takes the
  whole configuration from that body, so the pools, fan settings and frequency level are carried over
  from what ``get_miner_conf`` gave, unchanged, and only the mode differs. It answers
  ``{"stats": "success", "code": "M000", ...}``; the miner then restarts its mining process.

Sleep is never a sweep point: a sleeping miner hashes nothing, so there is nothing to measure (a miner
found asleep is put back to sleep when restored). A mode number the firmware reports beyond these
(some models have more) reads as ``mode-N`` and is restored as such. The account (``root`` unless
``SITEBENCH_MINER_ACCOUNT`` says otherwise) and password (``SITEBENCH_MINER_PASSWORD``) come from the
environment.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bench.miners.protocol.knobs.credentials import ACCOUNT_ENV, PASSWORD_ENV, credentials, lacking, scrub
from bench.miners.protocol.knobs.digest_http import WebError, exchange
from bench.miners.protocol.parse import BadReply, decode
from bench.power.knobs.knob import Allowed, Knob, KnobFailed, KnobRefused, Value

#: The web interface's port.
PORT = 80
#: Seconds each request may take.
TIMEOUT_S = 10.0
#: The account stock firmware has out of the box.
DEFAULT_ACCOUNT = "root"
#: ``bitmain-work-mode`` / ``miner-mode`` numbers by name.
MODES = {"normal": 0, "sleep": 1, "low-power": 3}
#: The modes a sweep may visit (sleep measures nothing).
SWEPT = ("normal", "low-power")
#: The settings carried over unchanged from ``get_miner_conf`` into ``set_miner_conf``.
CARRIED = ("pools", "bitmain-fan-ctrl", "bitmain-fan-pwm", "freq-level")
_OTHER = re.compile(r"^mode-(\d{1,2})$")
FIRMWARE = "antminer"


class AntminerMode(Knob):
    """The work mode of one stock Antminer."""

    kind = "miner.mode"
    unit = "mode"
    permission = f"the miner's web password in {PASSWORD_ENV} (account in {ACCOUNT_ENV}, default {DEFAULT_ACCOUNT})"
    #: A new mode restarts bmminer, which ramps its boards for some minutes.
    settle_s = 300.0

    def __init__(self, host: str, port: int = PORT, *, timeout_s: float = TIMEOUT_S) -> None:
        super().__init__(f"{host}:{port}")
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._has_modes = False

    # --- the knob ------------------------------------------------------------------------------------------

    def read(self) -> Value:
        """The mode the miner is configured for."""
        return self._mode(self._conf())

    def allowed(self) -> Allowed:
        """``normal`` and ``low-power``, once the firmware is known to have work modes."""
        if not self._has_modes:
            self._mode(self._conf())
        return Allowed(modes=SWEPT)

    def resolve(self, word: str) -> Value:
        """A sweep point: ``normal``, ``low-power`` or ``stock``; ``sleep`` is refused with the reason."""
        if word == "sleep":
            raise KnobRefused(f"{self.label}: 'sleep' is not a sweep point: a sleeping miner hashes nothing, so "
                              f"there is nothing to measure (its modes: {', '.join(SWEPT)})")
        return super().resolve(word)

    def stock(self) -> Value:
        """``normal``."""
        return "normal"

    def missing_permission(self) -> str | None:
        """None when a password is in the environment (a wrong one is refused by the miner)."""
        return lacking()

    def set(self, value: Value) -> None:
        """Configure mode ``value``, every other setting carried over as the miner gave it."""
        code = _code(value)
        if code is None:
            raise KnobRefused(f"{self.label}: {str(value)[:80]!r} is not one of its modes ({', '.join(SWEPT)})")
        conf = self._conf()
        self._mode(conf)
        body = {key: conf[key] for key in CARRIED if key in conf}
        body["miner-mode"] = code
        reply = self._json("set_miner_conf", json.dumps(body).encode())
        if reply.get("stats") != "success" and reply.get("code") != "M000":
            raise KnobRefused(f"{self.label}: set_miner_conf {value} refused by the miner "
                              f"({scrub(str(reply.get('msg') or reply.get('code') or reply), 200)})")

    def spec(self) -> dict[str, Any]:
        """``{"kind", "target", "firmware": "antminer", "host", "port"}`` (no credentials)."""
        return {"kind": self.kind, "target": self.target, "firmware": FIRMWARE, "host": self.host, "port": self.port}

    # --- the web interface ---------------------------------------------------------------------------------

    def _mode(self, conf: dict[str, Any]) -> str:
        raw = conf.get("bitmain-work-mode")
        if raw is None or raw == "":
            raise KnobRefused(f"{self.label}: the firmware has no work modes (get_miner_conf gives no "
                              "bitmain-work-mode); nothing was changed")
        try:
            number = int(raw)
        except (TypeError, ValueError):
            raise KnobFailed(f"{self.label}: bitmain-work-mode {str(raw)[:40]!r} is not a mode number") from None
        self._has_modes = True
        for name, code in MODES.items():
            if code == number:
                return name
        if not 0 <= number < 100:
            raise KnobFailed(f"{self.label}: bitmain-work-mode {number} is not a mode number")
        return f"mode-{number}"

    def _conf(self) -> dict[str, Any]:
        return self._json("get_miner_conf", None)

    def _json(self, cgi: str, body: bytes | None) -> dict[str, Any]:
        found = credentials(DEFAULT_ACCOUNT)
        if found is None:
            raise KnobRefused(f"{self.label}: {lacking()}")
        account, password = found
        url = f"http://{self.host}:{self.port}/cgi-bin/{cgi}.cgi"
        try:
            answer = exchange(url, account=account, password=password, body=body, timeout_s=self.timeout_s)
        except WebError as exc:
            message = scrub(str(exc))
            if exc.status == 401:
                raise KnobRefused(f"{self.label}: {cgi} refused: wrong account or password ({ACCOUNT_ENV}, "
                                  f"{PASSWORD_ENV}); nothing was changed") from None
            if exc.status == 404:
                raise KnobRefused(f"{self.label}: the firmware has no {cgi}.cgi (HTTP 404): not stock Antminer "
                                  "firmware with work modes; nothing was changed") from None
            raise KnobFailed(f"{self.label}: {cgi}: {message}") from None
        try:
            return decode(answer.body)[0]
        except BadReply as exc:
            raise KnobFailed(f"{self.label}: {cgi}: not a JSON object ({exc})") from None


def _code(value: Value) -> int | None:
    if not isinstance(value, str):
        return None
    if value in MODES:
        return MODES[value]
    other = _OTHER.match(value)
    return int(other.group(1)) if other else None


def open_spec(spec: dict[str, Any]) -> AntminerMode:
    """The knob a journal's spec names (``recover``).

    Raises:
        KnobFailed: the spec does not say where the miner is.
    """
    host, port = spec.get("host"), spec.get("port")
    if not isinstance(host, str) or not host or not isinstance(port, int) or isinstance(port, bool):
        raise KnobFailed(f"an Antminer mode spec without host and port: {str(spec)[:200]}")
    return AntminerMode(host, port)
