"""Read-only clients of the miners' LAN APIs: who a miner is, and one poll of it.

Only read commands are ever sent (:data:`READ_COMMANDS`); a write needs credentials
and a flag this module does not have. cgminer-family commands are joined with ``+``
into one request; a firmware that refuses joined commands (some stock Antminer
builds) is asked one command per connection from then on. Whatsminer API v3 is
tried on 4433 when nothing answers on 4028.

Every exchange goes through :func:`bench.miners.protocol.transport.request` under the client's
:class:`~bench.miners.protocol.transport.Limits`, and every reply becomes typed values through the
normalisers, each guarded at the parse edge (:func:`bench.miners.protocol.parse.edge`): whatever a
miner sends, asking it raises :class:`~bench.miners.protocol.parse.MinerError` or returns.
"""

from __future__ import annotations

import time
from typing import Any

from bench.miners.protocol import cgminer, whatsminer
from bench.miners.protocol.model import Identity, Poll
from bench.miners.protocol.parse import BadReply, CommandFailed, MinerError, check_status, edge, mapping, text
from bench.miners.protocol.transport import DEFAULT_TIMEOUT_S, LIMITS, Limits, NoAnswer, Unreachable, request

CGMINER_PORT = 4028
V3_PORT = 4433

#: Every command this package may send: all read-only.
READ_COMMANDS = frozenset({
    "version", "summary", "stats", "estats", "devs", "edevs", "devdetails", "pools", "temps", "fans",
    "tunerstatus", "power", "get_version", "get_miner_info", "get.device.info", "get.miner.status",
    "get.miner.setting",
})

#: Commands polled per firmware family (the first is required, the others optional).
POLL_COMMANDS: dict[str, tuple[str, ...]] = {
    "antminer": ("summary", "stats", "pools"),
    "luxos": ("summary", "stats", "pools", "power"),
    "braiins": ("summary", "devs", "devdetails", "temps", "fans", "tunerstatus", "pools"),
    "avalon": ("summary", "estats", "pools"),
    "whatsminer": ("summary", "edevs", "pools"),
    "cgminer": ("summary", "stats", "pools"),
}


def family_of(version_text: str) -> str:
    """The firmware family from the text of ``version`` + ``devdetails`` replies."""
    text = version_text.upper()
    for needle, family in (("BOSMINER", "braiins"), ("BOSER", "braiins"), ("BTMINER", "whatsminer"),
                           ("BITMICRO", "whatsminer"), ("LUXMINER", "luxos"), ("AVALON", "avalon"),
                           ("ANTMINER", "antminer"), ("BMMINER", "antminer")):
        if needle in text:
            return family
    return "cgminer"


class MinerClient:
    """Asks one miner; created by :func:`identify`."""

    def __init__(self, identity: Identity, timeout_s: float, limits: Limits = LIMITS) -> None:
        self.identity = identity
        self.timeout_s = timeout_s
        self.limits = limits
        self.join = True
        self.deadline: float | None = None

    def time_left(self) -> float:
        """Seconds the next exchange may take: the timeout, or less when a poll's budget runs out.

        Raises:
            NoAnswer: the budget is spent.
        """
        if self.deadline is None:
            return self.timeout_s
        left = min(self.timeout_s, self.deadline - time.monotonic())
        if left <= 0:
            raise NoAnswer(f"{self.identity.address}: no answer within the poll's budget")
        return left

    async def query(self, *commands: str) -> dict[str, Any]:
        """Replies by command; a required first command that fails raises, optional ones are left out.

        Raises:
            MinerError: unreachable, no answer, unparsable, or the first command refused.
        """
        return await query(self.identity.host, self.identity.port, commands, self.timeout_s, self)

    async def poll(self, budget_s: float | None = None) -> Poll:
        """One normalised poll now, within ``budget_s`` in all (every exchange of it included), stamped
        at the middle of the exchange (where the miner read its counters, as far as can be told from here).

        Raises:
            MinerError: the miner could not be read.
        """
        ident = self.identity
        t0 = time.monotonic()
        self.deadline = None if budget_s is None else t0 + budget_s
        try:
            if ident.protocol == "whatsminer-v3":
                msg = await v3_command(ident.host, ident.port, "get.miner.status", "summary+edevs+pools", self.time_left(),
                                       self.limits)
            else:
                replies = await self.query(*POLL_COMMANDS.get(ident.family, POLL_COMMANDS["cgminer"]))
        finally:
            self.deadline = None
        t1, wall = time.monotonic(), time.time()
        t, wall = (t0 + t1) / 2, wall - (t1 - t0) / 2
        if ident.protocol == "whatsminer-v3":
            return whatsminer.normalise_v3(ident, msg, t, wall)
        if ident.family == "whatsminer":
            return whatsminer.normalise_v2(ident, replies, t, wall)
        return cgminer.normalise(ident, replies, t, wall)


def _split_joined(objects: list[dict[str, Any]], commands: tuple[str, ...]) -> dict[str, Any]:
    if len(commands) == 1:
        return {commands[0]: objects[0]}
    if len(objects) == 1 and any(c in objects[0] for c in commands):  # {"summary": [{...}], "stats": [...]}
        out = {}
        for c in commands:
            part = objects[0].get(c)
            if isinstance(part, list) and part and isinstance(part[0], dict):
                out[c] = part[0]
        return out
    if len(objects) == len(commands):  # }{ between the replies, in the order asked
        return dict(zip(commands, objects))
    raise BadReply(f"{len(objects)} replies to {len(commands)} joined commands")


def _read_only(*commands: str) -> None:
    unknown = [c for c in commands if c not in READ_COMMANDS]
    if unknown:
        raise ValueError(f"not a read-only miner command: {', '.join(unknown)}")


async def query(host: str, port: int, commands: tuple[str, ...], timeout_s: float,
                state: MinerClient | None = None, *, required: bool = True, limits: Limits = LIMITS) -> dict[str, Any]:
    """Ask ``commands`` (joined with ``+`` where the miner takes it) and check each reply's status.

    Args:
        required: the first command must answer; otherwise any one answering is enough.

    Raises:
        MinerError: as :meth:`MinerClient.query`.
    """
    _read_only(*commands)
    limits = limits if state is None else state.limits
    replies: dict[str, Any] = {}
    if state is None or state.join or len(commands) == 1:
        objects = await request(host, port, {"command": "+".join(commands)},
                                timeout_s=timeout_s if state is None else state.time_left(), limits=limits)
        try:
            if len(commands) > 1 and len(objects) == 1 and not any(c in objects[0] for c in commands):
                check_status(objects[0], "+".join(commands))
            replies = _split_joined(objects, commands)
        except (CommandFailed, BadReply):
            if len(commands) == 1:
                raise
            if state is not None:
                state.join = False
    if not replies:
        for c in commands:
            try:
                left = timeout_s if state is None else state.time_left()
                replies[c] = (await request(host, port, {"command": c}, timeout_s=left, limits=limits))[0]
            except MinerError:
                if required and c == commands[0]:
                    raise
    for c in list(replies):
        try:
            check_status(replies[c], c)
        except CommandFailed:
            if required and c == commands[0]:
                raise
            del replies[c]
    if not replies or (required and commands[0] not in replies):
        raise BadReply(f"{host}:{port}: no answer to {' or '.join(commands[:1] if required else commands)}")
    return replies


async def v3_command(host: str, port: int, cmd: str, param: str | None, timeout_s: float,
                     limits: Limits = LIMITS) -> dict[str, Any]:
    """The ``msg`` object of a Whatsminer API v3 read command.

    Raises:
        MinerError: no answer, not v3 JSON, or a non-zero ``code``.
    """
    _read_only(cmd)
    payload: dict[str, Any] = {"cmd": cmd} if param is None else {"cmd": cmd, "param": param}
    reply = (await request(host, port, payload, timeout_s=timeout_s, framed=True, limits=limits))[0]
    if reply.get("code") != 0:
        raise CommandFailed(f"{host}:{port}: {cmd}: code {str(reply.get('code'))[:40]} ({str(reply.get('msg'))[:120]})")
    msg = reply.get("msg")
    if not isinstance(msg, dict):
        raise BadReply(f"{host}:{port}: {cmd}: msg is not an object")
    return msg


@edge(lambda host, port, replies: f"{host}:{port}")
def _version_identity(host: str, port: int, replies: dict[str, Any]) -> Identity:
    version = (cgminer.records(replies.get("version"), "VERSION") or [{}])[0]
    details = (cgminer.records(replies.get("devdetails"), "DEVDETAILS") or [{}])[0]
    family = family_of(f"{version} {details}"[:4000])
    model_text = (text(version, "Type") or text(details, "Model") or "").split(" (")[0].replace("Bitmain ", "")
    firmware = "cgminer " + (text(version, "CGMiner") or "?")
    make, model, serial = "unknown", model_text or "unknown", None
    if family in ("antminer", "luxos", "braiins"):
        make = "Bitmain"
        model = model_text if model_text.lower().startswith("antminer") else f"Antminer {model_text}".strip()
        key = {"antminer": "BMMiner", "luxos": "LUXminer", "braiins": "BOSminer"}[family]
        name = {"antminer": "bmminer", "luxos": "LuxOS", "braiins": "Braiins OS"}[family]
        firmware = f"{name} {text(version, key) or text(version, 'BOSer') or text(version, 'CGMiner') or '?'}"
    elif family == "avalon":
        prod = (text(version, "PROD") or "").split()
        make, model = "Canaan", f"Avalon A{text(version, 'MODEL') or (prod[-1] if prod else '?')}"
        firmware = f"Avalon {text(version, 'LVERSION') or text(version, 'CGMiner') or '?'}"
        serial = version.get("DNA") if isinstance(version.get("DNA"), str) else None
    elif family == "whatsminer":
        make, model = "MicroBT", f"Whatsminer {model_text}".strip()
        firmware = "btminer"
    return Identity(host, port, "cgminer", family, make, model[:200], firmware[:200], serial[:200] if serial else None)


async def _whatsminer_v2_extras(identity: Identity, timeout_s: float, limits: Limits) -> Identity:
    """Firmware version and serial from the ``get_*`` commands (optional: older firmwares lack them, and one
    that answers them with nonsense keeps the identity it has)."""
    fw, serial = identity.firmware, identity.serial
    for cmd in ("get_version", "get_miner_info"):
        try:
            msg = (await query(identity.host, identity.port, (cmd,), timeout_s, limits=limits))[cmd].get("Msg")
        except MinerError:
            continue
        if not isinstance(msg, dict):
            continue
        if cmd == "get_version" and isinstance(msg.get("fw_ver"), str) and msg["fw_ver"]:
            fw = f"btminer {msg['fw_ver'][:100]}"
        if cmd == "get_miner_info" and isinstance(msg.get("minersn"), (str, int)) and msg["minersn"]:
            serial = str(msg["minersn"])[:200]
    return Identity(identity.host, identity.port, identity.protocol, identity.family, identity.make,
                    identity.model, fw, serial)


@edge(lambda host, port, info: f"{host}:{port}")
def _v3_identity(host: str, port: int, info: dict[str, Any]) -> Identity:
    """Who a Whatsminer API v3 miner is, from its ``get.device.info`` message."""
    miner, system = mapping(info, "miner"), mapping(info, "system")
    model = (text(miner, "type") or "unknown").replace("_", " ")
    return Identity(host, port, "whatsminer-v3", "whatsminer", "MicroBT", f"Whatsminer {model}",
                    f"btminer {text(system, 'fwversion') or '?'}", text(miner, "miner-sn") or None)


async def identify(host: str, port: int | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                   limits: Limits = LIMITS) -> MinerClient:
    """Find out what answers at ``host``: the cgminer-family API (4028 unless ``port`` says otherwise),
    else Whatsminer API v3 (4433, or the port given when something there did not speak cgminer).

    Raises:
        MinerError: nothing that speaks a miner API answered; the message says what happened.
    """
    first_error: MinerError | None = None
    if port != V3_PORT:
        try:
            replies = await query(host, port or CGMINER_PORT, ("version", "devdetails"), timeout_s, required=False,
                                  limits=limits)
            identity = _version_identity(host, port or CGMINER_PORT, replies)
            if identity.family == "whatsminer":
                identity = await _whatsminer_v2_extras(identity, timeout_s, limits)
            return MinerClient(identity, timeout_s, limits)
        except MinerError as exc:
            silent = isinstance(exc, (Unreachable, NoAnswer))
            if (port is None and not silent) or (port is not None and isinstance(exc, Unreachable)):
                raise  # a non-miner answered on 4028, or nothing listens on the port given
            first_error = exc
    try:
        info = await v3_command(host, port or V3_PORT, "get.device.info", None, timeout_s, limits)
    except MinerError as exc:
        if first_error is None or not isinstance(exc, (Unreachable, NoAnswer)):
            raise  # what answered on the v3 port says more than the silence on 4028
        raise first_error from None
    return MinerClient(_v3_identity(host, port or V3_PORT, info), timeout_s, limits)
