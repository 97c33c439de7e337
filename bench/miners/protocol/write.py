"""The one write sitebench makes to a miner, and only when asked: ``miners run --set-power-target W``.

Only through Whatsminer API v3 (``set.miner.power_limit``), whose privileged commands carry a
token: the first 8 characters of base64(SHA-256(command + password + salt + timestamp)), the salt
from ``get.device.info`` (as MicroBT's API v3 documents it and pyasic implements it). The account
(``super`` unless ``SITEBENCH_MINER_ACCOUNT`` says otherwise) and its password
(``SITEBENCH_MINER_PASSWORD``) come from the environment only, and neither is ever printed, logged,
journaled or written to a result file: only the token crosses the wire, and any text coming back
is scrubbed of the password before it is shown. Every other firmware is refused with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time

from bench.errors import UsageError
from bench.miners.protocol.client import MinerClient, v3_command
from bench.miners.protocol.parse import CommandFailed, MinerError
from bench.miners.protocol.transport import request

PASSWORD_ENV = "SITEBENCH_MINER_PASSWORD"
ACCOUNT_ENV = "SITEBENCH_MINER_ACCOUNT"
#: The only write command sitebench sends.
SET_POWER_LIMIT = "set.miner.power_limit"


def credentials() -> tuple[str, str]:
    """``(account, password)`` from the environment.

    Raises:
        UsageError: no password set (checked before anything is measured).
    """
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        raise UsageError(f"--set-power-target writes to the miners: set their API password in {PASSWORD_ENV} "
                         f"(and {ACCOUNT_ENV} when the account is not 'super')")
    return os.environ.get(ACCOUNT_ENV) or "super", password


def token(command: str, password: str, salt: str, ts: int) -> str:
    """The v3 token of a privileged command at ``ts`` (Unix seconds)."""
    digest = base64.b64encode(hashlib.sha256(f"{command}{password}{salt}{ts}".encode()).digest()).decode()
    return digest[:8]


async def set_power_target(client: MinerClient, watts: int, account: str, password: str) -> str:
    """Ask the miner to hold ``watts``; returns what it answered (one line).

    Raises:
        MinerError: not a Whatsminer API v3 miner, no answer, or refused (a wrong password, a value out
            of range); the message never holds the password.
    """
    ident = client.identity
    if ident.protocol != "whatsminer-v3":
        raise CommandFailed(f"power target not set: sitebench writes it only through Whatsminer API v3 "
                            f"({ident.model} speaks {ident.protocol}, family {ident.family})")
    try:
        info = await v3_command(ident.host, ident.port, "get.device.info", "salt", client.timeout_s, client.limits)
        salt = info.get("salt") if isinstance(info.get("salt"), str) else ""
        if not salt:
            raise CommandFailed(f"{ident.address}: get.device.info gave no salt for a privileged command")
        ts = int(time.time())
        payload = {"cmd": SET_POWER_LIMIT, "param": int(watts), "ts": ts, "account": account,
                   "token": token(SET_POWER_LIMIT, password, salt, ts)}
        reply = (await request(ident.host, ident.port, payload, timeout_s=client.timeout_s, framed=True,
                               limits=client.limits))[0]
        if reply.get("code") != 0:
            raise CommandFailed(f"{ident.address}: {SET_POWER_LIMIT} {watts} W refused: code "
                                f"{str(reply.get('code'))[:40]} ({str(reply.get('msg'))[:200]})")
    except MinerError as exc:
        raise type(exc)(scrub(str(exc), password)) from None
    return scrub(f"power target {watts} W set ({str(reply.get('msg'))[:200]})", password)


def scrub(text: str, password: str) -> str:
    """``text`` with the password replaced (a firmware that echoes a request must not leak it)."""
    return text.replace(password, "***") if password else text
