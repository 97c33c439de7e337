"""A fake OpenAI-compatible streaming server on loopback, for tests and the client benchmark.

It does on demand what real servers do rarely: a fixed TTFT and ITL (token ``i`` leaves at
``ttft + i * itl`` after the request, on an absolute schedule so delays never accumulate), HTTP
429/500 answers, a stream cut in the middle of an event, events split across writes (inside a
UTF-8 character), ``:`` keep-alive comments, CRLF line endings, streams without ``usage`` or
without ``[DONE]``, several tokens per chunk, tokens held back (a byte-level BPE token inside a
UTF-8 character: an answer may end with a closing chunk and ``usage`` but no text, as
``transformers serve`` does), and a ``/metrics`` page whose energy counters rise linearly with time.

It also misbehaves and lies on demand, for the hostile-source tests (:attr:`Behaviour.misbehave`:
an endless stream, a trickle, endless keep-alives, a giant ``data:`` line, an endless error body or
header, a huge or deep ``/v1/models``; :attr:`Behaviour.usage_tokens` and ``prompt_tokens``: usage
counts that lie; :attr:`Behaviour.edit` and ``tamper``: events of the wrong shape, keys twice).

Like strict servers it answers 422 to request fields outside the OpenAI API
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
    #: the first ``hold`` tokens of an answer stream no chunk: their text comes with the next token's
    #: (a byte-level BPE token inside a UTF-8 character); an answer of at most ``hold`` tokens shows no text
    hold: int = 0
    #: the finish_reason in a closing chunk of its own, its text empty (``transformers serve``), not on the last token's
    closer: bool = False
    #: ``usage.completion_tokens`` from the true count (a lying server), or None: the true count
    usage_tokens: Callable[[int], Any] | None = None
    #: ``usage.prompt_tokens`` from the true count, or None: the true count
    prompt_tokens: Callable[[int], Any] | None = None
    #: each event's object, changed before it is sent (``choices`` as an object...), or None
    edit: Callable[[dict[str, Any]], Any] | None = None
    #: each event's JSON text, changed before it is sent (a key twice...), or None
    tamper: Callable[[str], str] | None = None
    #: what goes wrong, for the hostile-source tests (see :data:`MISBEHAVIOURS`), or None
    misbehave: str | None = None
    #: request number (from 0) -> whether it misbehaves and lies as above (None: every request)
    bad: Callable[[int], bool] | None = None
    #: seconds between the bytes of a ``trickle``
    trickle_s: float = 1.0
    #: bytes of a ``giant-line``, of a ``huge-models`` answer, levels of a ``deep-models`` one
    size: int = 100 << 20


#: Misbehaviours (:attr:`Behaviour.misbehave`): what each does to every completion request (or ``/v1/models``).
MISBEHAVIOURS = {
    "endless": "token chunks at full speed that never finish",
    "trickle": "the answer one byte every trickle_s",
    "pings": "keep-alive comments at full speed, never an event",
    "giant-line": "one data: line of `size` bytes",
    "endless-error": "HTTP 500 whose body never ends",
    "endless-header": "an answer head that never ends",
    "silence": "the head, then nothing",
    "no-answer": "nothing at all: the request is read, never answered",
    "huge-models": "a /v1/models answer of `size` bytes, Content-Length declared",
    "huge-models-chunked": "a /v1/models answer of `size` bytes, chunked",
    "deep-models": "a /v1/models answer nested `size` levels deep",
    "trickle-models": "the /v1/models answer one byte every trickle_s",
}
_FILL = 1 << 16


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
        except asyncio.CancelledError:  # the server stops while a handler waits (a silence, a trickle)
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
            listing = json.dumps({"object": "list", "data": data}).encode()
            if self.b.misbehave in ("huge-models", "huge-models-chunked", "deep-models", "trickle-models"):
                return await self._bad_models(writer, listing)
            return await self._plain(writer, 200, listing)
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
        hostile = self.b.bad(n) if self.b.bad else True
        if hostile and self.b.misbehave in ("endless-error", "endless-header", "silence", "no-answer"):
            return await self._endless(writer, self.b.misbehave)
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)
        try:
            return await self._stream(req, path.endswith("chat/completions"), n, writer, hostile)
        finally:
            self.active -= 1

    async def _stream(self, req: dict[str, Any], chat: bool, n: int, writer: asyncio.StreamWriter,
                      hostile: bool = True) -> bool:
        """Stream the answer; False when the connection was cut."""
        b = self.b
        start = time.monotonic()
        out = int(req.get("max_completion_tokens") or req.get("max_tokens") or 16)
        prompt = " ".join(str(m.get("content", "")) for m in req["messages"]) if chat else str(req.get("prompt", ""))
        prompt_tokens = len(prompt.split()) + (CHAT_OVERHEAD if chat else 0)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        misbehave = b.misbehave if hostile else None
        if misbehave in ("endless", "pings", "giant-line"):
            writer.write(head)
            return await self._flood(writer, chat, misbehave)
        if misbehave == "trickle":
            return await self._trickle(writer, head + b"".join(_chunked(e) for e in self._answer(chat, out, prompt_tokens)))
        writer.write(head)
        cut = b.cut(n) if b.cut else None
        nl = "\r\n" if b.crlf else "\n"
        obj = "chat.completion.chunk" if chat else "text_completion"
        if chat:
            writer.write(_chunked(self._event({"object": obj, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}, nl,
                                              hostile)))
        plan = self._plan(out)
        for i, tokens in enumerate(plan):
            delay = start + b.ttft + i * b.itl - time.monotonic()
            if delay > 0:
                await writer.drain()
                await asyncio.sleep(delay)
            if b.keepalive:
                writer.write(_chunked(f": ping{nl}{nl}".encode()))
            last = i == len(plan) - 1 and not b.closer
            choice: dict[str, Any] = {"index": 0, "finish_reason": "length" if last else None}
            piece = b.text * tokens
            choice.update({"delta": {"content": piece}} if chat else {"text": piece})
            data = self._event({"object": obj, "choices": [choice]}, nl, hostile)
            if cut is not None and i >= cut:
                writer.write(_chunked(data[: len(data) // 2]))
                await writer.drain()
                writer.transport.abort()
                return False
            if b.split and b.text:
                cut_at = data.index(b.text.encode()) + 1
                writer.write(_chunked(data[:cut_at]))
                await writer.drain()
                await asyncio.sleep(0.002)
                writer.write(_chunked(data[cut_at:]))
            else:
                writer.write(_chunked(data))
            self.sent.setdefault(n, []).append(time.monotonic())
        if b.closer or not plan:
            delay = start + b.ttft + max(0, len(plan) - 1) * b.itl - time.monotonic()
            if delay > 0:
                await writer.drain()
                await asyncio.sleep(delay)
            choice = {"index": 0, "finish_reason": "length", **({"delta": {}} if chat else {"text": ""})}
            writer.write(_chunked(self._event({"object": obj, "choices": [choice]}, nl, hostile)))
        if b.usage:
            usage = self._usage(prompt_tokens, out, hostile)
            writer.write(_chunked(self._event({"object": obj, "choices": [], "usage": usage}, nl, hostile)))
        if b.done:
            writer.write(_chunked(f"data: [DONE]{nl}{nl}".encode()))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    def _plan(self, out: int) -> list[int]:
        """The token chunks of an answer of ``out`` tokens: the tokens in each (chunk ``i`` leaves at ttft + i x itl)."""
        b = self.b
        plan: list[int] = []
        i = min(b.hold, out)
        if b.hold and i < out:
            plan.append(i + 1)
            i += 1
        while i < out:
            k = min(b.tokens_per_chunk, out - i)
            plan.append(k)
            i += k
        return plan

    def _usage(self, prompt_tokens: int, out: int, hostile: bool = True) -> dict[str, Any]:
        b = self.b
        completion = b.usage_tokens(out) if b.usage_tokens and hostile else out
        prompt = b.prompt_tokens(prompt_tokens) if b.prompt_tokens and hostile else prompt_tokens
        total = completion + prompt if all(isinstance(x, (int, float)) for x in (completion, prompt)) else None
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}

    def _answer(self, chat: bool, out: int, prompt_tokens: int) -> list[bytes]:
        """The events of a whole answer at once (for a trickle)."""
        obj = "chat.completion.chunk" if chat else "text_completion"
        events = []
        for i in range(out):
            choice: dict[str, Any] = {"index": 0, "finish_reason": "length" if i == out - 1 else None}
            choice.update({"delta": {"content": self.b.text}} if chat else {"text": self.b.text})
            events.append(self._event({"object": obj, "choices": [choice]}, "\n"))
        events.append(self._event({"object": obj, "choices": [], "usage": self._usage(prompt_tokens, out)}, "\n"))
        return [*events, b"data: [DONE]\n\n"]

    async def _flood(self, writer: asyncio.StreamWriter, chat: bool, how: str) -> bool:
        """Write at full speed until the client goes: token chunks, keep-alives, or one giant line (then an end)."""
        choice: dict[str, Any] = {"index": 0, "finish_reason": None}
        choice.update({"delta": {"content": self.b.text}} if chat else {"text": self.b.text})
        token = _chunked(self._event({"object": "text_completion", "choices": [choice]}, "\n") * 64)
        pieces = {"endless": token, "pings": _chunked(b": ping\n\n" * 4096), "giant-line": _chunked(b"x" * _FILL)}
        try:
            if how == "giant-line":
                writer.write(_chunked(b'data: {"choices": [{"index": 0, "text": "'))
                for _ in range(self.b.size // _FILL):
                    writer.write(pieces[how])
                    await writer.drain()
                writer.write(_chunked(b'"}]}\n\n') + b"0\r\n\r\n")
                await writer.drain()
                return True
            while True:
                writer.write(pieces[how])
                await writer.drain()
                await asyncio.sleep(0)
        except (ConnectionError, RuntimeError):
            return False

    async def _trickle(self, writer: asyncio.StreamWriter, data: bytes) -> bool:
        try:
            for i in range(len(data)):
                writer.write(data[i:i + 1])
                await writer.drain()
                await asyncio.sleep(self.b.trickle_s)
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def _endless(self, writer: asyncio.StreamWriter, how: str) -> bool:
        """An error body, or a head, that never ends; or a head and then silence."""
        try:
            if how in ("silence", "no-answer"):
                if how == "silence":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
                    await writer.drain()
                await asyncio.sleep(3600)
                return False
            if how == "endless-error":
                writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n")
                piece = _chunked(b"error " * 10_000)
            else:
                writer.write(b"HTTP/1.1 200 OK\r\n")
                piece = b"".join(b"X-Fill-%d: %s\r\n" % (i, b"y" * 100) for i in range(500))
            while True:
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0)
        except (ConnectionError, RuntimeError):
            return False

    async def _bad_models(self, writer: asyncio.StreamWriter, listing: bytes) -> bool:
        how, size = self.b.misbehave, self.b.size
        if how == "deep-models":
            body = listing[:-1] + b', "deep": ' + b"[" * size + b"]" * size + b"}"
            return await self._plain(writer, 200, body)
        if how == "trickle-models":
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(listing)
            return await self._trickle(writer, head + listing)
        start = listing[:-1] + b', "padding": "'
        end = b'"}'
        length = len(start) + size + len(end)
        chunked = how == "huge-models-chunked"
        framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % length
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%s\r\n\r\n" % framing)
        wrap = _chunked if chunked else (lambda d: d)
        try:
            writer.write(wrap(start))
            fill = wrap(b"x" * _FILL)
            for _ in range(size // _FILL):
                writer.write(fill)
                await writer.drain()
            writer.write(wrap(b"x" * (size % _FILL) + end) + (b"0\r\n\r\n" if chunked else b""))
            await writer.drain()
        except (ConnectionError, RuntimeError):
            return False
        return True

    def _event(self, obj: dict[str, Any], nl: str, hostile: bool = True) -> bytes:
        sent: Any = {"id": "fake", "created": 0, "model": "fake-model", **obj}
        if self.b.edit is not None and hostile:
            sent = self.b.edit(sent)
        text = json.dumps(sent, ensure_ascii=False)
        if self.b.tamper is not None and hostile:
            text = self.b.tamper(text)
        return f"data: {text}{nl}{nl}".encode()


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

    async def _shutdown(self) -> None:
        """Stop listening, and end the handlers still waiting (a silence, a trickle)."""
        await self.server.stop()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        self._ready.wait()
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(timeout=10)
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
