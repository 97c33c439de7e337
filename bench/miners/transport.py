"""One request and its reply over TCP, bounded in time and size.

cgminer-family APIs (and Whatsminer API v2) take one JSON request per connection
and answer with JSON, often NUL-terminated, then close. Whatsminer API v3 frames
every message with a 4-byte little-endian length. The whole exchange (connect,
send, read) must finish within ``timeout_s``: a miner that accepts and then hangs
costs its timeout, never more.
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

from bench.miners.parse import BadReply, MinerError

#: The largest reply read (a stats reply of a big Avalon is ~20 kB).
MAX_REPLY = 1 << 20


class Unreachable(MinerError):
    """Nothing listens there (connection refused or no route)."""


class NoAnswer(MinerError):
    """Connected (or tried to) but no complete answer came within the timeout."""


async def _open(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        return await asyncio.open_connection(host, port, limit=MAX_REPLY)
    except ConnectionRefusedError:
        raise Unreachable(f"{host}:{port}: connection refused") from None
    except OSError as exc:
        raise Unreachable(f"{host}:{port}: {exc.strerror or exc}") from None


async def _read_to_end(reader: asyncio.StreamReader) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if chunk.endswith(b"\x00") or size > MAX_REPLY:
            break
    return b"".join(chunks)


async def _read_framed(reader: asyncio.StreamReader, where: str) -> bytes:
    try:
        (length,) = struct.unpack("<I", await reader.readexactly(4))
        if length > MAX_REPLY:
            raise BadReply(f"{where}: a frame of {length} bytes (not Whatsminer API v3?)")
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise BadReply(f"{where}: connection closed mid-reply ({len(exc.partial)} bytes)") from None


async def exchange(host: str, port: int, request: dict[str, Any], *, timeout_s: float,
                   framed: bool = False) -> bytes:
    """Send ``request`` as JSON and return the raw reply.

    Args:
        framed: Whatsminer API v3 framing (4-byte little-endian length before each message).

    Raises:
        Unreachable: connection refused or no route.
        NoAnswer: nothing (complete) within ``timeout_s``.
        BadReply: a v3 frame cut short.
    """
    where = f"{host}:{port}"
    payload = json.dumps(request, separators=(",", ":")).encode()
    writers: list[asyncio.StreamWriter] = []

    async def talk() -> bytes:
        reader, writer = await _open(host, port)
        writers.append(writer)
        writer.write(struct.pack("<I", len(payload)) + payload if framed else payload)
        await writer.drain()
        return await (_read_framed(reader, where) if framed else _read_to_end(reader))

    try:
        raw = await asyncio.wait_for(talk(), timeout_s)
    except asyncio.TimeoutError:
        raise NoAnswer(f"{where}: no answer within {timeout_s:g} s") from None
    except (ConnectionResetError, BrokenPipeError) as exc:
        raise NoAnswer(f"{where}: connection reset ({exc.strerror or exc})") from None
    finally:
        for writer in writers:
            writer.close()
    if not raw:
        raise BadReply(f"{where}: closed the connection without answering")
    return raw
