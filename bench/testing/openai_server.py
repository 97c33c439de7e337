"""A fake OpenAI-compatible streaming server on loopback, for tests and the client benchmark.

It does on demand what real servers do rarely: a fixed TTFT and ITL (token ``i`` leaves at
``ttft + i * itl`` after the request, on an absolute schedule so delays never accumulate), HTTP
429/500 answers, a stream cut in the middle of an event, events split across writes (inside a
UTF-8 character), ``:`` keep-alive comments, CRLF line endings, streams without ``usage`` or
without ``[DONE]``, several tokens per chunk, and a ``/metrics`` page whose energy counters rise
linearly with time. Like strict servers it answers 422 to request fields outside the OpenAI API
(and ``ignore_eos`` unless it claims to be vLLM). Usage counts prompt tokens as whitespace-separated
words (plus :data:`CHAT_OVERHEAD` for chat). Plain asyncio streams and hand-written HTTP/1.1
(keep-alive, chunked bodies), so it costs little CPU beside the client it serves.

``python -m bench.testing.openai_server [--itl S] [--ttft S]`` serves on a free port and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

CHAT_OVERHEAD = 3
STANDARD = {"model", "prompt", "messages", "max_tokens", "max_completion_tokens", "stream", "stream_options",
            "temperature", "top_p", "n", "stop", "seed", "user", "presence_penalty", "frequency_penalty"}


@dataclass
class Behaviour:
    """What the fake server does; change it between runs."""

    ttft: float = 0.0
    itl: float = 0.0
    usage: bool = True
    done: bool = True
    tokens_per_chunk: int = 1
    text: str = "tok"
    keepalive: bool = False
    split: bool = False
    crlf: bool = False
    owned_by: str = "fake"
    #: a chat endpoint that predates max_completion_tokens (knows max_tokens only)
    legacy_chat: bool = False
    models: list[str] = field(default_factory=lambda: ["fake-model"])
    #: request number (from 0) -> HTTP status to answer instead, or None
    fail: Callable[[int], int | None] | None = None
    #: request number -> tokens after which the stream is cut mid-event, or None
    cut: Callable[[int], int | None] | None = None
    #: watts per GPU of the /metrics page's DCGM energy counters (None: no /metrics page)
    watts: list[float] | None = None


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class FakeServer:
    """The server; :meth:`start` in a running loop or use :class:`ServerThread`."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.b = behaviour or Behaviour()
        self.requests = 0
        self.active = 0
        self.peak_active = 0
        self.bodies: list[dict[str, Any]] = []
        #: request number -> time.monotonic() of each content event's write: what the server did
        self.sent: dict[int, list[float]] = {}
        self.t0 = time.monotonic()
        self.port = 0
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def energy_mj(self, gpu: int) -> float:
        """The /metrics counter of ``gpu`` now, in mJ."""
        assert self.b.watts is not None
        return self.b.watts[gpu] * 1000.0 * (time.monotonic() - self.t0) + 1e9

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (a free port unless given)."""
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._server is not None:
            self._server.close()
            if hasattr(self._server, "close_clients"):
                self._server.close_clients()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if not await self._route(method, path, body, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _plain(self, writer: asyncio.StreamWriter, status: int, body: bytes, ctype: str = "application/json") -> bool:
        writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                     % (status, HTTPStatus(status).phrase.encode(), ctype.encode(), len(body), body))
        await writer.drain()
        return True

    async def _route(self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if method == "GET" and path == "/v1/models":
            data = [{"id": m, "object": "model", "owned_by": self.b.owned_by} for m in self.b.models]
            return await self._plain(writer, 200, json.dumps({"object": "list", "data": data}).encode())
        if method == "GET" and path == "/metrics" and self.b.watts is not None:
            lines = ["# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).",
                     "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter"]
            lines += [f'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{gpu="{i}",UUID="GPU-{i}",modelName="Fake GPU"}} '
                      f"{self.energy_mj(i):.3f}" for i in range(len(self.b.watts))]
            lines += ["# TYPE DCGM_FI_DEV_POWER_USAGE gauge"]
            lines += [f'DCGM_FI_DEV_POWER_USAGE{{gpu="{i}"}} {w}' for i, w in enumerate(self.b.watts)]
            return await self._plain(writer, 200, ("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4")
        if method != "POST" or path not in ("/v1/completions", "/v1/chat/completions"):
            return await self._plain(writer, 404, b'{"error": "not found"}')
        n = self.requests
        self.requests += 1
        try:
            req = json.loads(body)
        except ValueError:
            return await self._plain(writer, 400, b'{"error": "body is not JSON"}')
        self.bodies.append(req)
        allowed = STANDARD | ({"ignore_eos"} if self.b.owned_by in ("vllm", "sglang") else set())
        allowed -= {"max_completion_tokens"} if self.b.legacy_chat else set()
        if set(req) - allowed:
            detail = {"detail": f"Unexpected fields: {sorted(set(req) - allowed)}"}
            return await self._plain(writer, 422, json.dumps(detail).encode())
        if req.get("model") not in self.b.models:
            return await self._plain(writer, 404, b'{"error": "model not found"}')
        status = self.b.fail(n) if self.b.fail else None
        if status:
            return await self._plain(writer, status, b'{"error": "fake failure"}')
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)
        try:
            return await self._stream(req, path.endswith("chat/completions"), n, writer)
        finally:
            self.active -= 1

    async def _stream(self, req: dict[str, Any], chat: bool, n: int, writer: asyncio.StreamWriter) -> bool:
        """Stream the answer; False when the connection was cut."""
        b = self.b
        start = time.monotonic()
        out = int(req.get("max_completion_tokens") or req.get("max_tokens") or 16)
        prompt = " ".join(str(m.get("content", "")) for m in req["messages"]) if chat else str(req.get("prompt", ""))
        prompt_tokens = len(prompt.split()) + (CHAT_OVERHEAD if chat else 0)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        events = -(-out // b.tokens_per_chunk)
        cut = b.cut(n) if b.cut else None
        nl = "\r\n" if b.crlf else "\n"
        obj = "chat.completion.chunk" if chat else "text_completion"
        if chat:
            writer.write(_chunked(self._event({"object": obj, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}, nl)))
        for i in range(events):
            delay = start + b.ttft + i * b.itl - time.monotonic()
            if delay > 0:
                await writer.drain()
                await asyncio.sleep(delay)
            if b.keepalive:
                writer.write(_chunked(f": ping{nl}{nl}".encode()))
            last = i == events - 1
            piece = b.text * min(b.tokens_per_chunk, out - i * b.tokens_per_chunk)
            choice: dict[str, Any] = {"index": 0, "finish_reason": "length" if last else None}
            choice.update({"delta": {"content": piece}} if chat else {"text": piece})
            data = self._event({"object": obj, "choices": [choice]}, nl)
            if cut is not None and i >= cut:
                writer.write(_chunked(data[: len(data) // 2]))
                await writer.drain()
                writer.transport.abort()
                return False
            if b.split:
                cut_at = data.index(b.text.encode()) + 1
                writer.write(_chunked(data[:cut_at]))
                await writer.drain()
                await asyncio.sleep(0.002)
                writer.write(_chunked(data[cut_at:]))
            else:
                writer.write(_chunked(data))
            self.sent.setdefault(n, []).append(time.monotonic())
        if b.usage:
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": out, "total_tokens": prompt_tokens + out}
            writer.write(_chunked(self._event({"object": obj, "choices": [], "usage": usage}, nl)))
        if b.done:
            writer.write(_chunked(f"data: [DONE]{nl}{nl}".encode()))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    @staticmethod
    def _event(obj: dict[str, Any], nl: str) -> bytes:
        obj = {"id": "fake", "created": 0, "model": "fake-model", **obj}
        return f"data: {json.dumps(obj, ensure_ascii=False)}{nl}{nl}".encode()


class ServerThread:
    """A :class:`FakeServer` on its own event loop in a daemon thread (for synchronous callers)."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.server = FakeServer(behaviour)
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-openai", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.start())
        self._ready.set()
        self.loop.run_forever()

    def __enter__(self) -> FakeServer:
        self._thread.start()
        self._ready.wait()
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


def main() -> None:
    """Serve until killed; print the port on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ttft", type=float, default=0.0)
    parser.add_argument("--itl", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    async def serve() -> None:
        server = FakeServer(Behaviour(ttft=args.ttft, itl=args.itl))
        await server.start(args.port)
        print(server.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
