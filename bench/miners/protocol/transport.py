"""One request and its reply over TCP, bounded in time and size.

cgminer-family APIs (and Whatsminer API v2) take one JSON request per connection
and answer with JSON, often NUL-terminated, then close. Whatsminer API v3 frames
every message with a 4-byte little-endian length. The whole exchange (connect,
send, read) must finish within ``timeout_s``: a miner that accepts and then hangs
costs its timeout, never more. A bare asyncio protocol (no streams) keeps a poll
cheap enough for a thousand miners every few seconds on one core.
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
from typing import Any

from bench.miners.protocol.parse import BadReply, MinerError

#: The largest reply read (a stats reply of a big Avalon is ~20 kB).
MAX_REPLY = 1 << 20


class Unreachable(MinerError):
    """Nothing listens there (connection refused or no route)."""


class NoAnswer(MinerError):
    """Connected (or tried to) but no complete answer came within the timeout."""


class _Exchange(asyncio.Protocol):
    """Sends the request on connect; the reply is complete at EOF, a NUL byte, or a whole v3 frame."""

    def __init__(self, payload: bytes, framed: bool, done: asyncio.Future[bytes]) -> None:
        self.payload, self.framed, self.done = payload, framed, done
        self.chunks: list[bytes] = []
        self.size = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.payload)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        if self.size > MAX_REPLY or (not self.framed and data.endswith(b"\x00")) or self._frame_complete():
            self._finish()

    def _frame_complete(self) -> bool:
        if not self.framed or self.size < 4:
            return False
        head = b"".join(self.chunks)
        (length,) = struct.unpack("<I", head[:4])
        return length > MAX_REPLY or self.size >= 4 + length

    def eof_received(self) -> bool:
        self._finish()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            if exc is not None and not self.chunks:
                self.done.set_exception(NoAnswer(f"connection reset ({exc})"))
            else:
                self._finish()

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(b"".join(self.chunks))
        if self.transport is not None:
            self.transport.close()


def _unframe(raw: bytes, where: str) -> bytes:
    if len(raw) < 4:
        raise BadReply(f"{where}: connection closed mid-reply ({len(raw)} bytes)")
    (length,) = struct.unpack("<I", raw[:4])
    if length > MAX_REPLY:
        raise BadReply(f"{where}: a frame of {length} bytes (not Whatsminer API v3?)")
    if len(raw) < 4 + length:
        raise BadReply(f"{where}: connection closed mid-reply ({len(raw) - 4} of {length} bytes)")
    return raw[4:4 + length]


async def exchange(host: str, port: int, request: dict[str, Any], *, timeout_s: float,
                   framed: bool = False) -> bytes:
    """Send ``request`` as JSON and return the raw reply (the frame's body for v3).

    Args:
        framed: Whatsminer API v3 framing (4-byte little-endian length before each message).

    Raises:
        Unreachable: connection refused or no route.
        NoAnswer: nothing (complete) within ``timeout_s``, or reset before answering.
        BadReply: closed without answering, or a v3 frame cut short.
    """
    where = f"{host}:{port}"
    payload = json.dumps(request, separators=(",", ":")).encode()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    protocol = _Exchange(struct.pack("<I", len(payload)) + payload if framed else payload, framed, done)

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
    except NoAnswer as exc:
        raise NoAnswer(f"{where}: {exc}") from None
    except OSError as exc:
        raise Unreachable(f"{where}: {exc.strerror or exc}") from None
    if not raw:
        raise BadReply(f"{where}: closed the connection without answering")
    return _unframe(raw, where) if framed else raw
