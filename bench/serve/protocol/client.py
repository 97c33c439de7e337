"""One streamed request to an OpenAI-compatible server, timed per token event, across the boundary.

Requests carry standard OpenAI fields only (``model``, ``prompt`` or ``messages``, the output
cap, ``stream``, ``stream_options.include_usage``) plus what :class:`~bench.serve.protocol.server.ServerInfo`
says the server accepts (``ignore_eos`` for vLLM and SGLang): strict servers answer 422 to
unknown fields.

Every request crosses the boundary of :mod:`bench.serve.protocol.boundary` (its :class:`~bench.serve.protocol.boundary.Limits`:
a read timeout, a deadline, a byte limit on the answer and on one SSE line or event) and every
event is read into typed, bounded values (:func:`read_chunk`): an object; ``choices`` a list of
objects; texts strings; ``usage`` counts whole numbers from 0; no key twice in any object.
Anything else fails that request with its reason; the load goes on.

What counts as a token event follows vLLM's client (a streamed choice, even one whose text is
empty, as a special token gives) with two exceptions that keep non-token chunks out of TTFT and
ITL: a chat chunk that only announces the ``role`` (sent before prefill), and a closing chunk
whose text is empty and that carries the ``finish_reason``. Such a closing chunk may still hold
tokens: with a byte-level BPE tokenizer a token can be part of a UTF-8 character, the server holds
its text back, and a short answer can end with the closing chunk and ``usage`` but no text
(``transformers serve`` does). The count (``usage``, or a local tokenizer's), not visible text,
decides whether tokens came; without any token event the closing chunk is the first token (TTFT
is measured to the first chunk carrying the choice). The count must then agree with the stream
(:mod:`bench.serve.protocol.counts`): no fewer tokens than token events, no more than the cap asked, nor
than :data:`~bench.serve.protocol.counts.MAX_TOKENS_PER_EVENT` a chunk; a request whose count disagrees
fails as ``token count``. More token events than the cap asked ends the request as it happens
(``over the cap``): a stream that never ends is cut there.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import aiohttp

from bench.serve.protocol.boundary import ERROR_BODY_BYTES, LIMITS, DuplicateKey, Limits, Refused, loads, read_upto
from bench.serve.protocol.counts import MAX_REQUEST_TOKENS, MAX_TOKENS_PER_EVENT, disagreement
from bench.serve.protocol.dataset import Prompt
from bench.serve.protocol.records import RequestRecord
from bench.serve.protocol.sse import SSEParser

#: how much of an error answer's body goes into the failure message
ERROR_BODY_CHARS = 200
#: The failure class of a request whose token count is refused: not a count, a key twice in its usage,
#: or a count that disagrees with its stream (a server caught once is not believed for the rest).
COUNT_FAILURE = "token count"
#: The keys whose values are token counts.
COUNT_KEYS = ("usage", "completion_tokens", "prompt_tokens", "total_tokens")
#: The failure class of a stream past the output cap it was asked for.
OVER_CAP = "over the cap"
BAD_EVENT = "bad event"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_BODY_CHARS else text[:ERROR_BODY_CHARS] + "..."


class Chunk(NamedTuple):
    """One streamed event, typed: a token event or a closing chunk (see the module), its text, finish and usage."""

    token: bool = False
    closer: bool = False
    text: str = ""
    finish_reason: str | None = None
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    error: str | None = None


_NOTHING = Chunk()


def _count(value: Any, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REQUEST_TOKENS:
        raise Refused(COUNT_FAILURE, f"usage.{key} is {_short(repr(value))}: not a count (a whole number from 0 to "
                                     f"{MAX_REQUEST_TOKENS})")
    return value


def _text(value: Any, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refused(BAD_EVENT, f"{key} is a {type(value).__name__}, not a string")
    return value


def read_chunk(obj: Any, chat: bool) -> Chunk:
    """The typed values of one parsed event.

    Raises:
        Refused: not an object, or a field of the wrong type or out of bounds (class ``bad event``).
    """
    if not isinstance(obj, dict):
        raise Refused(BAD_EVENT, f"an event is a JSON {type(obj).__name__}, not an object")
    if obj.get("error"):
        return Chunk(error=_short(str(obj["error"])))
    usage = obj.get("usage")
    completion = prompt = None
    if usage is not None:
        if not isinstance(usage, dict):
            raise Refused(COUNT_FAILURE, f"usage is a {type(usage).__name__}, not an object")
        completion = _count(usage.get("completion_tokens"), "completion_tokens")
        prompt = _count(usage.get("prompt_tokens"), "prompt_tokens")
    choices = obj.get("choices")
    if choices is None or choices == []:
        return _NOTHING if usage is None else Chunk(completion_tokens=completion, prompt_tokens=prompt)
    if not isinstance(choices, list):
        raise Refused(BAD_EVENT, f"choices is a {type(choices).__name__}, not a list")
    choice = choices[0]
    if not isinstance(choice, dict):
        raise Refused(BAD_EVENT, f"choices[0] is a {type(choice).__name__}, not an object")
    finish = choice.get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        raise Refused(BAD_EVENT, f"finish_reason is a {type(finish).__name__}, not a string")
    if chat:
        delta = choice.get("delta")
        if delta is None:
            delta = {}
        elif not isinstance(delta, dict):
            raise Refused(BAD_EVENT, f"choices[0].delta is a {type(delta).__name__}, not an object")
        text = (_text(delta.get("content"), "delta.content") or _text(delta.get("reasoning_content"), "delta.reasoning_content")
                or _text(delta.get("reasoning"), "delta.reasoning"))
        tools = delta.get("tool_calls")
        if tools is not None and not isinstance(tools, list):
            raise Refused(BAD_EVENT, f"delta.tool_calls is a {type(tools).__name__}, not a list")
        token = bool(text or tools) or ("content" in delta and "role" not in delta and finish is None)
        role_only = "role" in delta and not token
    else:
        text = _text(choice.get("text"), "text")
        token = bool(text) or ("text" in choice and finish is None)
        role_only = False
    return Chunk(token, not token and not role_only and finish is not None, text, finish and finish[:40],
                 completion, prompt)


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
        limits: the bounds of every request (:mod:`bench.serve.protocol.boundary`).
        per_event: the most tokens one streamed chunk is believed to carry (:mod:`bench.serve.protocol.counts`).
    """

    def __init__(self, url: str, model: str, *, chat: bool, extra: dict[str, Any] | None = None,
                 max_field: str = "max_completion_tokens", counter: Callable[[str], int] | None = None,
                 limits: Limits = LIMITS, per_event: int = MAX_TOKENS_PER_EVENT) -> None:
        self.url, self.model, self.chat = url, model, chat
        self.extra = dict(extra or {})
        self.max_field = max_field
        self.counter = counter
        self.limits, self.per_event = limits, per_event
        self.timeout = limits.timeout()
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
        end = rec.dispatched + self.limits.deadline_s
        stream = _Stream(self.chat, prompt.max_tokens, self.limits.max_response_bytes, end, self.limits.max_event_bytes)
        try:
            async with session.post(self.url, json=self.payload(prompt), headers=self.headers,
                                    timeout=self.timeout) as resp:
                rec.status = resp.status
                if resp.status != 200:
                    body, _ = await read_upto(resp.content, ERROR_BODY_BYTES, end)
                    text = body.decode("utf-8", "replace")
                    rec.fail(f"HTTP {resp.status}", f"HTTP {resp.status} {_short(resp.reason or '')}: {_short(text)}",
                             time.monotonic())
                    return rec
                await stream.read(resp, rec, on_first_token)
        except Refused as exc:
            rec.fail(exc.failure, str(exc), time.monotonic())
        except asyncio.TimeoutError:
            late = self.limits.timed_out(rec.dispatched)
            rec.fail(late.failure, str(late), time.monotonic())
        except aiohttp.ClientPayloadError as exc:
            rec.fail("stream cut", f"stream cut: {_short(str(exc))}", time.monotonic())
        except (aiohttp.ClientConnectionError, OSError) as exc:
            rec.fail("connection", f"{type(exc).__name__}: {_short(str(exc))}", time.monotonic())
        except aiohttp.ClientError as exc:
            rec.fail("client error", f"{type(exc).__name__}: {_short(str(exc))}", time.monotonic())
        except (ValueError, LookupError, TypeError, UnicodeError) as exc:  # what else a malformed answer raises in aiohttp
            rec.fail("client error", f"{type(exc).__name__}: {_short(str(exc))}", time.monotonic())
        if rec.ok:
            self._count(prompt, rec, stream)
        return rec

    def _count(self, prompt: Prompt, rec: RequestRecord, stream: _Stream) -> None:
        """The request's token count, from usage or the local tokenizer, held against its stream."""
        if rec.output_tokens is None:
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
        if not rec.output_tokens and not stream.events:
            rec.ok = False
            rec.failure = "no tokens"
            rec.error = f"the stream ended without a single token ({rec.token_source} says 0, and no token event came)"
            return
        usage = rec.token_source == "usage"
        # a local count re-tokenises the text: special tokens stream no text, so it may fall below the events
        why = disagreement(rec.output_tokens, stream.events, carriers=stream.events + stream.closer,
                           cap=prompt.max_tokens if usage else None, per_event=self.per_event,
                           slack=0 if usage else stream.events, what="usage" if usage else "the local tokenizer")
        if why is not None:
            rec.ok, rec.failure, rec.error = False, COUNT_FAILURE, why


class _Stream:
    """The reading of one streamed answer (what came, for the count's check afterwards)."""

    __slots__ = ("chat", "cap", "max_bytes", "end", "parser", "events", "closer")

    def __init__(self, chat: bool, cap: int, max_bytes: int, end: float, max_event_bytes: int) -> None:
        self.chat, self.cap, self.max_bytes, self.end = chat, cap, max_bytes, end
        self.parser = SSEParser(max_event_bytes)
        self.events = 0  # token events
        self.closer = 0  # 1 when a closing chunk came (it may hold tokens held back)

    async def read(self, resp: aiohttp.ClientResponse, rec: RequestRecord,
                   on_first_token: Callable[[RequestRecord], None] | None) -> None:
        parser, chat, times, parts = self.parser, self.chat, rec.token_times, []
        done = False
        size = 0
        async for data in resp.content.iter_any():
            t = time.monotonic()
            size += len(data)
            if size > self.max_bytes:
                raise Refused("too large", f"the answer is longer than the {self.max_bytes} bytes accepted "
                                           "(--max-response-bytes)")
            if t > self.end:
                raise Refused("deadline", "the request did not end within its deadline")
            for event in parser.feed(data):
                if event.data == b"[DONE]":
                    done = True
                    continue
                try:
                    obj = loads(event.data)
                except DuplicateKey as exc:
                    raise Refused(COUNT_FAILURE if exc.key in COUNT_KEYS else BAD_EVENT, f"an event is refused: {exc}") from None
                except ValueError as exc:
                    shown = _short(event.data[:400].decode("utf-8", "replace"))
                    raise Refused(BAD_EVENT, f"an event is refused: {exc}: {shown}") from None
                chunk = read_chunk(obj, chat)
                if event.name == "error" or chunk.error is not None:
                    raise Refused("server error", f"the server reported an error mid-stream: {chunk.error or _short(str(obj))}")
                if chunk.completion_tokens is not None:
                    rec.output_tokens, rec.token_source = chunk.completion_tokens, "usage"
                if chunk.prompt_tokens is not None:
                    rec.input_tokens = chunk.prompt_tokens
                if chunk.token:
                    self.events += 1
                    if self.events > self.cap:
                        raise Refused(OVER_CAP, f"the server streamed more token events than the {self.cap} tokens "
                                                "asked for (max_tokens)")
                    if self.events == 1 and times:  # the closing chunk stood in for a first token: a real one came
                        times.clear()
                    times.append(t)
                    if chunk.text:
                        parts.append(chunk.text)
                    if len(times) == 1 and not self.closer and on_first_token is not None:
                        on_first_token(rec)
                elif chunk.closer and not self.closer:
                    self.closer = 1
                    if not times:  # no token event yet: the first chunk carrying the choice is the first token
                        times.append(t)
                        if on_first_token is not None:
                            on_first_token(rec)
                if chunk.finish_reason:
                    rec.finish_reason = chunk.finish_reason
        t = time.monotonic()
        rec.text = "".join(parts)
        left = parser.close()
        if left is not None and left.data != b"[DONE]":
            rec.fail("stream cut", "the stream ended inside an event", t)
        elif not times:
            rec.fail("no tokens", "the stream ended without a single token (no chunk carried the choice)", t)
        elif not (done or rec.finish_reason):
            rec.fail("stream cut", "the stream ended without [DONE] or a finish_reason", t)
        else:
            rec.ok, rec.end = True, t
