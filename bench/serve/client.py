"""One streamed request to an OpenAI-compatible server, timed per token event.

Requests carry standard OpenAI fields only (``model``, ``prompt`` or ``messages``, the output
cap, ``stream``, ``stream_options.include_usage``) plus what :class:`~bench.serve.server.ServerInfo`
says the server accepts (``ignore_eos`` for vLLM and SGLang): strict servers answer 422 to
unknown fields.

What counts as a token event follows vLLM's client (a streamed choice, even one whose text is
empty, as a special token gives) with two exceptions that keep non-token chunks out of TTFT and
ITL: a chat chunk that only announces the ``role``, and a closing chunk whose text is empty and
that carries the ``finish_reason`` (``transformers serve`` puts its usage there). Usage is read
from whichever chunk carries it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bench.serve.dataset import Prompt
from bench.serve.records import RequestRecord
from bench.serve.sse import SSEParser

#: how much of an error answer's body goes into the failure message
ERROR_BODY_CHARS = 200
#: json.loads without its per-call encoding sniffing (events are UTF-8 by the SSE standard)
_decode = json.JSONDecoder().decode


def token_text(choice: dict[str, Any], chat: bool) -> tuple[bool, str]:
    """(is this choice a token event, its text)."""
    if chat:
        delta = choice.get("delta") or {}
        text = delta.get("content") or delta.get("reasoning_content") or delta.get("reasoning") or ""
        if text or delta.get("tool_calls"):
            return True, text if isinstance(text, str) else ""
        return "content" in delta and "role" not in delta and choice.get("finish_reason") is None, ""
    text = choice.get("text") or ""
    if text:
        return True, text if isinstance(text, str) else ""
    return "text" in choice and choice.get("finish_reason") is None, ""


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_BODY_CHARS else text[:ERROR_BODY_CHARS] + "..."


class OpenAIClient:
    """Sends prompts to one endpoint of one server and records what comes back.

    Args:
        url: the full endpoint URL (``.../v1/completions`` or ``.../v1/chat/completions``).
        model: the model name sent with every request.
        chat: the chat endpoint (``messages``) rather than completions (``prompt``).
        extra: non-standard fields the server is known to accept.
        max_field: the chat output-cap field (``max_completion_tokens``, or ``max_tokens`` for
            servers that know only that one).
        counter: a local token counter for streams without usage (None: such a stream fails).
        read_timeout_s: the longest wait for the next bytes of a response.
    """

    def __init__(self, url: str, model: str, *, chat: bool, extra: dict[str, Any] | None = None,
                 max_field: str = "max_completion_tokens", counter: Callable[[str], int] | None = None,
                 read_timeout_s: float = 300.0) -> None:
        self.url, self.model, self.chat = url, model, chat
        self.extra = dict(extra or {})
        self.max_field = max_field
        self.counter = counter
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=30.0, sock_read=read_timeout_s)
        self.headers = {"Content-Type": "application/json"}
        if os.environ.get("OPENAI_API_KEY"):
            self.headers["Authorization"] = f"Bearer {os.environ['OPENAI_API_KEY']}"

    def payload(self, prompt: Prompt) -> dict[str, Any]:
        """The JSON body for ``prompt``."""
        body: dict[str, Any] = {"model": self.model}
        if self.chat:
            body["messages"] = prompt.chat_messages()
            body[self.max_field] = prompt.max_tokens
        else:
            body["prompt"] = prompt.prompt
            body["max_tokens"] = prompt.max_tokens
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        body.update(self.extra)
        return body

    async def send(self, session: aiohttp.ClientSession, prompt: Prompt, rec: RequestRecord,
                   on_first_token: Callable[[RequestRecord], None] | None = None) -> RequestRecord:
        """Send ``prompt`` and fill ``rec``; never raises for what the server or network does.

        ``rec.dispatched`` is the send time: set now unless the caller set it.
        """
        if not rec.dispatched:
            rec.dispatched = time.monotonic()
        try:
            async with session.post(self.url, json=self.payload(prompt), headers=self.headers,
                                    timeout=self.timeout) as resp:
                rec.status = resp.status
                if resp.status != 200:
                    body = await resp.text(errors="replace")
                    rec.fail(f"HTTP {resp.status}", f"HTTP {resp.status} {resp.reason or ''}: {_short(body)}",
                             time.monotonic())
                    return rec
                await self._read(resp, rec, on_first_token)
        except asyncio.TimeoutError:
            rec.fail("timeout", "no bytes from the server within the read timeout", time.monotonic())
        except aiohttp.ClientPayloadError as exc:
            rec.fail("stream cut", f"stream cut: {_short(str(exc))}", time.monotonic())
        except (aiohttp.ClientConnectionError, OSError) as exc:
            rec.fail("connection", f"{type(exc).__name__}: {_short(str(exc))}", time.monotonic())
        except aiohttp.ClientError as exc:
            rec.fail("client error", f"{type(exc).__name__}: {_short(str(exc))}", time.monotonic())
        if rec.ok:
            self._count(prompt, rec)
        return rec

    async def _read(self, resp: aiohttp.ClientResponse, rec: RequestRecord,
                    on_first_token: Callable[[RequestRecord], None] | None) -> None:
        parser = SSEParser()
        chat, times, parts = self.chat, rec.token_times, []
        done = False
        async for data in resp.content.iter_any():
            t = time.monotonic()
            for event in parser.feed(data):
                if event.data == b"[DONE]":
                    done = True
                    continue
                try:
                    obj = _decode(event.data.decode())
                except ValueError:  # not JSON, or not UTF-8
                    rec.fail("bad event", f"an event is not JSON: {_short(event.data.decode('utf-8', 'replace'))}", t)
                    return
                if not isinstance(obj, dict):
                    rec.fail("bad event", "an event is not a JSON object", t)
                    return
                if event.name == "error" or obj.get("error"):
                    rec.fail("server error", f"the server reported an error mid-stream: {_short(str(obj.get('error')))}", t)
                    return
                usage = obj.get("usage")
                if isinstance(usage, dict):
                    if isinstance(usage.get("completion_tokens"), int):
                        rec.output_tokens, rec.token_source = usage["completion_tokens"], "usage"
                    if isinstance(usage.get("prompt_tokens"), int):
                        rec.input_tokens = usage["prompt_tokens"]
                choices = obj.get("choices")
                if choices and isinstance(choices[0], dict):
                    is_token, text = token_text(choices[0], chat)
                    if is_token:
                        times.append(t)
                        if text:
                            parts.append(text)
                        if len(times) == 1 and on_first_token is not None:
                            on_first_token(rec)
                    if choices[0].get("finish_reason"):
                        rec.finish_reason = choices[0]["finish_reason"]
        t = time.monotonic()
        rec.text = "".join(parts)
        left = parser.close()
        if left is not None and left.data != b"[DONE]":
            rec.fail("stream cut", "the stream ended inside an event", t)
        elif not times:
            rec.fail("no tokens", "the stream ended without a single token", t)
        elif not (done or rec.finish_reason):
            rec.fail("stream cut", "the stream ended without [DONE] or a finish_reason", t)
        else:
            rec.ok, rec.end = True, t

    def _count(self, prompt: Prompt, rec: RequestRecord) -> None:
        if rec.output_tokens is not None:
            return
        if self.counter is None:
            rec.ok = False
            rec.failure = "no token count"
            rec.error = "the stream carried no usage and no --tokenizer was given to count its tokens"
            return
        rec.output_tokens, rec.token_source = self.counter(rec.text), "tokenizer"
        if rec.input_tokens is None:
            text = prompt.prompt if prompt.prompt is not None else " ".join(
                str(m.get("content", "")) for m in prompt.chat_messages())
            rec.input_tokens = self.counter(text)
