"""Whatsminer power limit: a :class:`~bench.power.knobs.knob.Knob` over Whatsminer API v3 (TCP 4433).

- **Read**: ``get.miner.setting``, its ``power-limit`` (W), as MicroBT's API v3 documents it (the limit the
  user set; the firmware holds the least of it, its PSU's limit and its protection limit).
- **Range**: ``set.miner.power_limit`` cannot exceed the unit's standard operating power. That is the
  firmware's own ``power`` in ``get.miner.setting`` (API 3.0.3 on), else the model's declared nameplate power
  from sitebench's catalog; a unit with neither is refused (no range to check a value against). The floor is
  :data:`FLOOR_FRACTION` of it: sitebench's own, since MicroBT documents none, below which no Whatsminer
  tuning profile goes.
- **Stock**: the standard operating power (the firmware's default: no limit below it).
- **Set**: ``set.miner.power_limit`` (whole W) with the v3 token of the account's password
  (:func:`bench.miners.protocol.write.token`; the salt from ``get.device.info``). The firmware restarts its
  mining to apply it, so the knob settles for minutes (:attr:`WhatsminerPowerLimit.settle_s`) before the
  warm-up, which waits for the firmware's own stability flag.

The account (``super`` unless ``SITEBENCH_MINER_ACCOUNT`` says otherwise) and password
(``SITEBENCH_MINER_PASSWORD``) come from the environment; only the token crosses the wire, and text coming back
is scrubbed of the password. Every exchange goes through the bounded transport
(:mod:`bench.miners.protocol.transport`); a firmware that does not know ``get.miner.setting`` is refused in one
line (an older v3, or not v3 at all), before anything changes.
"""

from __future__ import annotations

import math
import time
from typing import Any

from bench.miners.protocol import catalog
from bench.miners.protocol.client import V3_PORT, v3_command
from bench.miners.protocol.knobs.blocking import run
from bench.miners.protocol.knobs.credentials import ACCOUNT_ENV, PASSWORD_ENV, credentials, lacking, scrub
from bench.miners.protocol.parse import CommandFailed, MinerError, num
from bench.miners.protocol.transport import DEFAULT_TIMEOUT_S, LIMITS, Limits, request
from bench.miners.protocol.write import SET_POWER_LIMIT, token
from bench.power.knobs.knob import Allowed, Knob, KnobFailed, KnobRefused, Value

#: The firmware family name in a spec.
FIRMWARE = "whatsminer-v3"
#: The account Whatsminer API v3 writes with out of the box.
DEFAULT_ACCOUNT = "super"
#: The lowest limit sitebench sets, as a fraction of the standard power.
FLOOR_FRACTION = 0.5
#: The largest ``power-limit`` the API takes (its documented range is 0-99999 W).
MAX_LIMIT_W = 99_999
#: The v3 reply codes of a command the firmware does not have.
UNKNOWN_COMMAND = ("-2",)


class WhatsminerPowerLimit(Knob):
    """The power limit of one Whatsminer on API v3 (W)."""

    kind = "miner.power_target"
    unit = "W"
    permission = f"the miner's API password in {PASSWORD_ENV} (account in {ACCOUNT_ENV}, default {DEFAULT_ACCOUNT})"
    #: The firmware restarts mining on a new limit, then retunes: minutes.
    settle_s = 300.0

    def __init__(self, host: str, port: int = V3_PORT, *, model: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, limits: Limits = LIMITS) -> None:
        super().__init__(f"{host}:{port}")
        self.host, self.port, self.model = host, port, model
        self.timeout_s, self.limits = timeout_s, limits
        self._allowed: Allowed | None = None

    # --- the knob ------------------------------------------------------------------------------------------

    def read(self) -> Value:
        """The power limit the firmware holds (``get.miner.setting``'s ``power-limit``, W).

        Raises:
            KnobRefused: the firmware has no ``get.miner.setting``.
            KnobFailed: no answer, or no limit in it.
        """
        watts = self._watts(self._setting(), "power-limit")
        if watts is None:
            raise KnobFailed(f"{self.label}: get.miner.setting gave no power-limit")
        return watts

    def allowed(self) -> Allowed:
        """``FLOOR_FRACTION x standard .. standard`` W in whole W (see the module's docstring).

        Raises:
            KnobRefused: neither the firmware nor the catalog says what the unit's standard power is.
        """
        if self._allowed is None:
            high = self._standard_w()
            self._allowed = Allowed(low=float(math.ceil(FLOOR_FRACTION * high)), high=high, step=1.0)
        return self._allowed

    def stock(self) -> Value:
        """The standard operating power: the firmware's own default, no limit below it."""
        high = self.allowed().high
        assert high is not None
        return high

    def resolve(self, word: str) -> Value:
        """As :meth:`Knob.resolve`, a number of W being whole (the API takes whole W)."""
        value = super().resolve(word)
        if isinstance(value, float) and value != round(value):
            raise KnobRefused(f"{self.label}: {word!r}: the power limit is a whole number of W")
        return value

    def missing_permission(self) -> str | None:
        """One line when no password is in the environment."""
        return lacking()

    def set(self, value: Value) -> None:
        """Send ``set.miner.power_limit`` with ``value`` W.

        Raises:
            KnobRefused: no password in the environment, or the firmware answered and refused it (a wrong
                password, a value it does not take): nothing changed; the message never holds the password.
            KnobFailed: no answer (it may have changed).
        """
        if isinstance(value, str) or value != round(value) or not 0 <= value <= MAX_LIMIT_W:
            raise KnobRefused(f"{self.label}: {value!r} is not a whole number of W the API takes")
        found = credentials(DEFAULT_ACCOUNT)
        if found is None:
            raise KnobRefused(f"{self.label}: {lacking()}")
        account, password = found
        watts = int(round(value))
        try:
            run(lambda: self._set(watts, account, password))
        except Refused as exc:
            raise KnobRefused(scrub(f"{self.label}: {SET_POWER_LIMIT} {watts} W {exc}; nothing was changed", 600)) from None
        except MinerError as exc:
            raise KnobFailed(scrub(f"{self.label}: {SET_POWER_LIMIT} {watts} W: {exc}", 600)) from None

    def spec(self) -> dict[str, Any]:
        """``{"kind", "target", "firmware": "whatsminer-v3", "host", "port", "model"}`` (no credential)."""
        return {"kind": self.kind, "target": self.target, "firmware": FIRMWARE, "host": self.host, "port": self.port,
                "model": self.model}

    # --- the API -------------------------------------------------------------------------------------------

    def _setting(self) -> dict[str, Any]:
        try:
            return run(lambda: v3_command(self.host, self.port, "get.miner.setting", None, self.timeout_s, self.limits))
        except CommandFailed as exc:
            if any(f"code {code} " in str(exc) for code in UNKNOWN_COMMAND):
                raise KnobRefused(f"{self.label}: the firmware does not answer get.miner.setting (an API v3 before "
                                  "its power-limit commands): its power limit cannot be set; nothing was changed") from None
            raise KnobFailed(scrub(f"{self.label}: {exc}")) from None
        except MinerError as exc:
            raise KnobFailed(scrub(f"{self.label}: {exc}")) from None

    def _watts(self, msg: dict[str, Any], key: str) -> float | None:
        value = num(msg.get(key)) if not isinstance(msg.get(key), bool) else None
        return float(value) if value is not None and 0 <= value <= MAX_LIMIT_W else None

    def _standard_w(self) -> float:
        firmware = self._watts(self._setting(), "power")
        if firmware:
            return float(round(firmware))
        spec = catalog.lookup(self.model) if self.model else None
        if spec is not None and spec.nameplate_w:
            return float(spec.nameplate_w)
        raise KnobRefused(f"{self.label}: neither the firmware (get.miner.setting has no 'power') nor sitebench's "
                          f"catalog ({self.model or 'model unknown'}) says the unit's standard power, so no value can "
                          "be checked against its range; nothing was changed")

    async def _set(self, watts: int, account: str, password: str) -> None:
        info = await v3_command(self.host, self.port, "get.device.info", "salt", self.timeout_s, self.limits)
        salt = info.get("salt") if isinstance(info.get("salt"), str) else ""
        if not salt:
            raise CommandFailed("get.device.info gave no salt for a privileged command")
        ts = int(time.time())
        payload = {"cmd": SET_POWER_LIMIT, "param": watts, "ts": ts, "account": account,
                   "token": token(SET_POWER_LIMIT, password, salt, ts)}
        reply = (await request(self.host, self.port, payload, timeout_s=self.timeout_s, framed=True,
                               limits=self.limits))[0]
        if reply.get("code") != 0:
            raise Refused(f"refused: code {str(reply.get('code'))[:40]} ({str(reply.get('msg'))[:200]})")


class Refused(CommandFailed):
    """The miner answered and refused the write (a wrong password's invalid token, a value it does not take):
    nothing changed."""


def open_spec(spec: dict[str, Any]) -> WhatsminerPowerLimit:
    """The knob a journal's spec names (``recover``).

    Raises:
        KnobFailed: the spec does not say where the miner is.
    """
    host, port, model = spec.get("host"), spec.get("port"), spec.get("model")
    if not isinstance(host, str) or not host or not isinstance(port, int) or isinstance(port, bool) \
            or not 0 < port < 65536:
        raise KnobFailed(f"a Whatsminer power limit spec without host and port: {str(spec)[:200]}")
    return WhatsminerPowerLimit(host, port, model=model[:200] if isinstance(model, str) else None)
