"""LuxOS profiles: a :class:`~bench.power.knobs.knob.Knob` whose values are the firmware's own profile names.

LuxOS sets power through profiles (``default``, and steps of frequency and voltage above and below it,
each with the watts and hash rate LuxOS tuned it to) on its cgminer-family API (JSON on port 4028,
as pyasic's ``LUXMinerRPCAPI`` speaks it):

- ``profiles`` lists them (``PROFILES``: ``Profile Name``, ``Watts``, ``Hashrate``...); ``config`` names the
  one in use (``CONFIG[0].Profile``); ``atm`` says whether Advanced Thermal Management is on;
- ``profileset`` and ``atmset`` are privileged: their first parameter is a session id, from ``session``
  (the one open, when there is one) or ``logon`` (a new one, closed with ``logoff`` afterwards). LuxOS's
  ``logon`` asks no password: its API trusts the LAN, so this knob needs no credentials.

ATM changes the profile by itself as the miner warms and cools, which would move a sweep's point under
it; so the first change turns ATM off (``atmset enabled=false``), and restoring turns it back on when it
was on. Whether it was on is part of the knob's :meth:`~LuxosProfile.spec`, written to the journal before
the first change, so ``recover`` turns it back on too. Every exchange crosses the miners' bounded
transport (:func:`bench.miners.protocol.transport.request`).
"""

from __future__ import annotations

import re
from typing import Any

from bench.miners.protocol.knobs.blocking import run
from bench.miners.protocol.knobs.credentials import scrub
from bench.miners.protocol.parse import MinerError
from bench.miners.protocol.transport import LIMITS, Limits, request
from bench.power.knobs.knob import Allowed, Knob, KnobFailed, KnobRefused, Value

#: The cgminer-family API port.
PORT = 4028
#: Seconds each exchange may take.
TIMEOUT_S = 5.0
#: The profile LuxOS ships as its stock setting.
STOCK_PROFILE = "default"
#: Profiles believed in one reply.
MAX_PROFILES = 256
#: A profile name sitebench will send back (it travels inside a comma-separated parameter).
_NAME = re.compile(r"^[A-Za-z0-9_.+\-]{1,64}$")
#: cgminer's status code for a command the firmware does not have.
INVALID_COMMAND = 14
FIRMWARE = "luxos"


class LuxosProfile(Knob):
    """The profile one LuxOS miner runs."""

    kind = "miner.mode"
    unit = "mode"
    permission = "a LuxOS API session (its logon asks no password)"
    #: A new profile ramps its frequency and voltage over a minute or two.
    settle_s = 120.0

    def __init__(self, host: str, port: int = PORT, *, timeout_s: float = TIMEOUT_S, limits: Limits = LIMITS,
                 atm_enabled: bool | None = None) -> None:
        super().__init__(f"{host}:{port}")
        self.host, self.port, self.timeout_s, self.limits = host, port, timeout_s, limits
        #: Whether ATM was on before this knob first changed anything (None: not read yet, or no ATM).
        self.atm_original = atm_enabled

    # --- the knob ------------------------------------------------------------------------------------------

    def read(self) -> Value:
        """The profile in use (``config``)."""
        config = run(lambda: self._ask("config"))
        records = config.get("CONFIG")
        profile = records[0].get("Profile") if isinstance(records, list) and records and \
            isinstance(records[0], dict) else None
        if not isinstance(profile, str) or not _NAME.match(profile):
            raise KnobFailed(f"{self.label}: config names no profile")
        return profile

    def allowed(self) -> Allowed:
        """The profiles the miner lists (``profiles``)."""
        return Allowed(modes=self.profiles())

    def profiles(self) -> tuple[str, ...]:
        """The names of the miner's profiles, in its order.

        Raises:
            KnobRefused: the firmware has no ``profiles`` (not LuxOS), or lists none.
        """
        reply = run(lambda: self._ask("profiles"))
        records = reply.get("PROFILES")
        names = []
        for record in (records if isinstance(records, list) else [])[:MAX_PROFILES]:
            name = record.get("Profile Name") if isinstance(record, dict) else None
            if isinstance(name, str) and _NAME.match(name) and name not in names:  # a name it can send back whole
                names.append(name)
        if not names:
            raise KnobRefused(f"{self.label}: the miner lists no profiles; nothing was changed")
        return tuple(names)

    def stock(self) -> Value:
        """The ``default`` profile."""
        if STOCK_PROFILE not in self.profiles():
            raise KnobRefused(f"{self.label}: the miner has no {STOCK_PROFILE!r} profile to call stock")
        return STOCK_PROFILE

    def missing_permission(self) -> str | None:
        """None: LuxOS's API takes a session, not a password."""
        return None

    def set(self, value: Value) -> None:
        """Run profile ``value``, ATM turned off first when it is on (its original state kept)."""
        name = self._name(value)
        atm = self._atm_now()
        if self.atm_original is None:
            self.atm_original = atm
        commands = ([("atmset", "enabled=false")] if atm else []) + [("profileset", name)]
        run(lambda: self._privileged(commands))

    def restore(self, original: Value) -> None:
        """Run profile ``original`` again, and turn ATM back on when it was on."""
        name = self._name(original)
        commands = [("profileset", name)] + ([("atmset", "enabled=true")] if self.atm_original else [])
        run(lambda: self._privileged(commands))

    def spec(self) -> dict[str, Any]:
        """``{"kind", "target", "firmware": "luxos", "host", "port", "atm_enabled"}``: whether ATM was on
        before the first change, so that ``recover`` turns it back on."""
        if self.atm_original is None:
            self.atm_original = self._atm_now()
        return {"kind": self.kind, "target": self.target, "firmware": FIRMWARE, "host": self.host, "port": self.port,
                "atm_enabled": self.atm_original}

    # --- the API -------------------------------------------------------------------------------------------

    def _name(self, value: Value) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            raise KnobRefused(f"{self.label}: {str(value)[:80]!r} is not a LuxOS profile name")
        return value

    def _atm_now(self) -> bool:
        """Whether ATM is on now (False on a LuxOS without ATM)."""
        try:
            reply = run(lambda: self._ask("atm"))
        except KnobRefused:
            return False
        records = reply.get("ATM")
        enabled = records[0].get("Enabled") if isinstance(records, list) and records and \
            isinstance(records[0], dict) else None
        if not isinstance(enabled, bool):
            raise KnobFailed(f"{self.label}: atm did not say whether ATM is enabled")
        return enabled

    async def _privileged(self, commands: list[tuple[str, str]]) -> None:
        """Run ``commands`` in a session: the open one, else a new one closed afterwards."""
        session, ours = await self._session()
        try:
            for command, parameter in commands:
                await self._ask(command, f"{session},{parameter}")
        finally:
            if ours:
                try:
                    await self._ask("logoff", session)
                except (KnobFailed, KnobRefused):
                    pass  # it times out by itself

    async def _session(self) -> tuple[str, bool]:
        try:
            open_id = _session_id(await self._ask("session"))
        except KnobRefused:
            open_id = None
        if open_id:
            return open_id, False
        new_id = _session_id(await self._ask("logon"))
        if not new_id:
            raise KnobFailed(f"{self.label}: logon gave no session id")
        return new_id, True

    async def _ask(self, command: str, parameter: str | None = None) -> dict[str, Any]:
        """One command's reply, its status checked.

        Raises:
            KnobRefused: the firmware has no such command, or refused it.
            KnobFailed: no (readable) answer.
        """
        payload = {"command": command} if parameter is None else {"command": command, "parameter": parameter}
        # a privileged command's parameter starts with the session id, which is never shown
        what = f"{command} {parameter.split(',', 1)[1]}" if parameter and "," in parameter else command
        try:
            replies = await request(self.host, self.port, payload, timeout_s=self.timeout_s, limits=self.limits)
        except MinerError as exc:
            raise KnobFailed(f"{self.label}: {what}: {scrub(str(exc))}") from None
        reply = replies[0]
        status = reply.get("STATUS")
        head = status[0] if isinstance(status, list) and status and isinstance(status[0], dict) else {}
        if head.get("STATUS") in ("E", "F"):
            msg = scrub(str(head.get("Msg") or "no message"), 200)
            if head.get("Code") == INVALID_COMMAND or "invalid command" in msg.lower():
                raise KnobRefused(f"{self.label}: the firmware has no {command!r} command ({msg}): not LuxOS; "
                                  "nothing was changed")
            raise KnobRefused(f"{self.label}: {what} refused by the miner ({msg})")
        return reply


def _session_id(reply: dict[str, Any]) -> str | None:
    records = reply.get("SESSION")
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return None
    sid = records[0].get("SessionID")
    return sid if isinstance(sid, str) and _NAME.match(sid) else None


def open_spec(spec: dict[str, Any]) -> LuxosProfile:
    """The knob a journal's spec names (``recover``), with ATM's original state.

    Raises:
        KnobFailed: the spec does not say where the miner is.
    """
    host, port, atm = spec.get("host"), spec.get("port"), spec.get("atm_enabled")
    if not isinstance(host, str) or not host or not isinstance(port, int) or isinstance(port, bool):
        raise KnobFailed(f"a LuxOS profile spec without host and port: {str(spec)[:200]}")
    return LuxosProfile(host, port, atm_enabled=atm if isinstance(atm, bool) else None)
