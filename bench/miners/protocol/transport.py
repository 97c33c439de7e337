"""One request and its reply over TCP: the boundary everything a miner sends crosses, bounded in bytes,
depth and time.

cgminer-family APIs (and Whatsminer API v2) take one JSON request per connection
and answer with JSON, often NUL-terminated, then close. Whatsminer API v3 frames
every message with a 4-byte little-endian length. A bare asyncio protocol (no streams)
keeps a poll cheap enough for a thousand miners every few seconds on one core.

Every exchange is bounded by :class:`Limits`, whose defaults are the module constants:

- :data:`MAX_REPLY_BYTES` (1 MiB): a longer reply (or a v3 frame announcing more) is refused as it
  arrives, never read on; a big Avalon's ``estats`` is some 20 kB.
- :data:`~bench.miners.protocol.parse.MAX_DEPTH` (32 levels): a deeper reply is refused before the
  JSON parser sees it (:func:`bench.miners.protocol.parse.decode`); real replies nest 4 deep.
- :data:`DEFAULT_TIMEOUT_S` (2 s, ``--timeout``): the total deadline of one exchange (connect, send,
  read), however the bytes come: a miner that trickles its reply a byte at a time, or never ends it,
  costs this, never more. A poll (several exchanges) shares one budget (``0.9 x --period`` at most), a
  scanned address one deadline for all its exchanges.
- :data:`READ_TIMEOUT_S` (2 s, ``--read-timeout``): the longest silence: from sending the request to
  the first byte, and between chunks; never longer than what is left of the deadline. Raising
  ``--timeout`` for a slow link leaves a miner that goes silent mid-reply cut off after this.

Anything outside them is one :class:`~bench.miners.protocol.parse.MinerError` for that miner, with the
reason; :func:`request` is the one entry the clients use (exchange, then decode under the same limits).
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
from dataclasses import dataclass
from typing import Any

from bench.miners.protocol.parse import MAX_DEPTH, BadReply, MinerError, decode

#: The largest reply read.
MAX_REPLY_BYTES = 1 << 20
#: Seconds one exchange may take in all (``--timeout``).
DEFAULT_TIMEOUT_S = 2.0
#: Seconds a miner may stay silent within an exchange (``--read-timeout``).
READ_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Limits:
    """The bounds of every exchange with a miner (see the module's docstring)."""

    max_bytes: int = MAX_REPLY_BYTES
    max_depth: int = MAX_DEPTH
    read_timeout_s: float = READ_TIMEOUT_S


#: The defaults.
LIMITS = Limits()


class Unreachable(MinerError):
    """Nothing listens there (connection refused or no route)."""


class NoAnswer(MinerError):
    """Connected (or tried to) but no complete answer came within the timeout."""


class _Exchange(asyncio.Protocol):
    """Sends the request on connect; the reply is complete at EOF, a NUL byte, or a whole v3 frame.

    Refuses a reply over ``limits.max_bytes`` and a silence over ``limits.read_timeout_s`` as they happen."""

    def __init__(self, payload: bytes, framed: bool, done: asyncio.Future[bytes], limits: Limits) -> None:
        self.payload, self.framed, self.done, self.limits = payload, framed, done, limits
        self.chunks: list[bytes] = []
        self.size = 0
        self.transport: asyncio.Transport | None = None
        self._silence: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.done.done():  # connected after the exchange gave up (its deadline passed while connecting)
            transport.close()
            return
        self.transport.write(self.payload)  # type: ignore[union-attr]
        self._watch()

    def _watch(self) -> None:
        if self._silence is not None:
            self._silence.cancel()
        self._silence = asyncio.get_running_loop().call_later(self.limits.read_timeout_s, self._silent)

    def _silent(self) -> None:
        what = "mid-reply" if self.size else "after the request"
        self._fail(NoAnswer(f"silent for {self.limits.read_timeout_s:.3g} s {what} (read timeout)"))

    def data_received(self, data: bytes) -> None:
        if self.done.done():
            return
        self.chunks.append(data)
        self.size += len(data)
        limit = self.limits.max_bytes
        if self.size > limit + (4 if self.framed else 0):
            self._fail(BadReply(f"a reply over {limit:,} bytes: refused, not read on"))
            return
        if self.framed and self.size >= 4:
            head = self.chunks[0] if len(self.chunks[0]) >= 4 else b"".join(self.chunks)
            (length,) = struct.unpack("<I", head[:4])
            if length > limit:
                self._fail(BadReply(f"a v3 frame of {length:,} bytes, over {limit:,}: refused (not Whatsminer API v3?)"))
                return
            if self.size >= 4 + length:
                self._finish()
                return
        elif not self.framed and data.endswith(b"\x00"):
            self._finish()
            return
        self._watch()

    def eof_received(self) -> bool:
        self._finish()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            if exc is not None and not self.chunks:
                self._fail(NoAnswer(f"connection reset ({exc})"))
            else:
                self._finish()
        self.stop_watch()

    def stop_watch(self) -> None:
        if self._silence is not None:
            self._silence.cancel()
            self._silence = None

    def abandon(self) -> None:
        """The exchange is over, answered or not: nothing that still arrives or times out is kept (a failure set
        in the same turn of the loop as the deadline's cancellation is taken, not left to be reported unretrieved)."""
        self.stop_watch()
        if not self.done.done():
            self.done.cancel()
        elif not self.done.cancelled():
            self.done.exception()

    def _fail(self, exc: MinerError) -> None:
        if not self.done.done():
            self.done.set_exception(exc)
        self._close()

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(b"".join(self.chunks))
        self._close()

    def _close(self) -> None:
        self.stop_watch()
        if self.transport is not None:
            self.transport.close()


def _unframe(raw: bytes, where: str, limit: int) -> bytes:
    if len(raw) < 4:
        raise BadReply(f"{where}: connection closed mid-reply ({len(raw)} bytes)")
    (length,) = struct.unpack("<I", raw[:4])
    if length > limit:
        raise BadReply(f"{where}: a frame of {length} bytes (not Whatsminer API v3?)")
    if len(raw) < 4 + length:
        raise BadReply(f"{where}: connection closed mid-reply ({len(raw) - 4} of {length} bytes)")
    return raw[4:4 + length]


async def exchange(host: str, port: int, request: dict[str, Any], *, timeout_s: float,
                   framed: bool = False, limits: Limits = LIMITS) -> bytes:
    """Send ``request`` as JSON and return the raw reply (the frame's body for v3).

    Args:
        timeout_s: the exchange's total deadline.
        framed: Whatsminer API v3 framing (4-byte little-endian length before each message).
        limits: the byte limit and read timeout (the read timeout never outlasts ``timeout_s``).

    Raises:
        Unreachable: connection refused or no route.
        NoAnswer: nothing (complete) within ``timeout_s``, silent for the read timeout, or reset before answering.
        BadReply: closed without answering, a reply over the byte limit, or a v3 frame cut short.
    """
    where = f"{host}:{port}"
    payload = json.dumps(request, separators=(",", ":")).encode()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    if limits.read_timeout_s > timeout_s:
        limits = Limits(limits.max_bytes, limits.max_depth, timeout_s)
    protocol = _Exchange(struct.pack("<I", len(payload)) + payload if framed else payload, framed, done, limits)

    async def talk() -> bytes:
        transport, _ = await loop.create_connection(lambda: protocol, host, port)
        try:
            return await done
        finally:
            transport.close()

    try:
        if sys.version_info >= (3, 11):  # a timeout scope: no extra task per exchange
            async with asyncio.timeout(timeout_s):
                raw = await talk()
        else:
            raw = await asyncio.wait_for(talk(), timeout_s)
    except (asyncio.TimeoutError, TimeoutError):
        raise NoAnswer(f"{where}: no answer within {timeout_s:.3g} s") from None
    except ConnectionRefusedError:
        raise Unreachable(f"{where}: connection refused") from None
    except MinerError as exc:
        raise type(exc)(f"{where}: {exc}") from None
    except OSError as exc:
        raise Unreachable(f"{where}: {exc.strerror or exc}") from None
    finally:
        protocol.abandon()
    if not raw:
        raise BadReply(f"{where}: closed the connection without answering")
    return _unframe(raw, where, limits.max_bytes) if framed else raw


async def request(host: str, port: int, payload: dict[str, Any], *, timeout_s: float, framed: bool = False,
                  limits: Limits = LIMITS) -> list[dict[str, Any]]:
    """:func:`exchange`, then the reply's JSON objects (:func:`~bench.miners.protocol.parse.decode` under
    ``limits.max_depth``): the one way the clients read a miner.

    Raises:
        MinerError: as :func:`exchange`, or a reply that is not (repairable) JSON objects; named ``host:port``.
    """
    raw = await exchange(host, port, payload, timeout_s=timeout_s, framed=framed, limits=limits)
    try:
        return decode(raw, max_depth=limits.max_depth)
    except BadReply as exc:
        raise BadReply(f"{host}:{port}: {exc}") from None
