"""Who answers at ``--base-url``: the model list, the serving engine, and a probe request.

``GET /v1/models`` names the models (the first is the default, as in vLLM) and, through
``owned_by``, the engine: vLLM and SGLang say so, and only they are sent the non-standard
``ignore_eos`` (every request then generates exactly its output cap). The probe sends two
short requests before the benchmark: it proves the endpoint streams, learns whether streams
carry ``usage`` (else a local tokenizer must count), falls back from ``max_completion_tokens``
to ``max_tokens`` for chat servers that know only the older field, and calibrates random
prompts (see :mod:`bench.serve.protocol.dataset`). Everything that stops a benchmark here is one line,
exit 2.

The model list crosses the boundary (:mod:`bench.serve.protocol.boundary`): at most
:data:`~bench.serve.protocol.boundary.MAX_LISTING_BYTES` within :data:`~bench.serve.protocol.boundary.LISTING_DEADLINE_S`,
strict JSON. The probe's prompt counts are held to a plausible tokenizer before they size any
prompt: counts from 0 that grow with the words, at :data:`MIN_TOKENS_PER_WORD` to
:data:`MAX_TOKENS_PER_WORD` tokens a word, a fixed overhead under :data:`MAX_OVERHEAD_TOKENS`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bench.errors import UsageError
from bench.serve.protocol.boundary import LISTING_DEADLINE_S, MAX_LISTING_BYTES, Limits, Refused, loads, read_upto
from bench.serve.protocol.client import COUNT_FAILURE, OVER_CAP, OpenAIClient
from bench.serve.protocol.dataset import Prompt, random_text
from bench.serve.protocol.records import RequestRecord

#: engines known to accept fields beyond the OpenAI API, by ``owned_by`` in /v1/models
EXTRA_FIELDS: dict[str, dict[str, Any]] = {"vllm": {"ignore_eos": True}, "sglang": {"ignore_eos": True}}
PROBE_WORDS = (16, 80)
#: Tokens per word of the probe's random prompts a real tokenizer gives: common English words are one
#: token each in current vocabularies, some 6 to 8 for a byte- or character-level one.
MIN_TOKENS_PER_WORD, MAX_TOKENS_PER_WORD = 0.5, 16.0
#: The most prompt tokens a server adds to every prompt (a chat template, a system prompt).
MAX_OVERHEAD_TOKENS = 8192


def normalize_base_url(url: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing ``/`` or ``/v1``.

    Raises:
        UsageError: not an http(s) URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--base-url {url}: expected http(s)://HOST[:PORT] (e.g. http://127.0.0.1:8000)")
    base = url.rstrip("/")
    return base.removesuffix("/v1")


@dataclass
class ServerInfo:
    """The server a benchmark talks to, as it describes itself."""

    base_url: str
    model: str
    models: list[str]
    owned_by: str | None = None
    root: str | None = None
    max_model_len: int | None = None
    server_header: str | None = None
    listing: dict[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> str:
        """``host[:port]`` of the server (the run's device is ``endpoint:HOST``)."""
        return urlsplit(self.base_url).netloc

    @property
    def engine(self) -> str:
        """``vllm``, ``sglang`` or ``unknown``."""
        owner = (self.owned_by or "").lower()
        return owner if owner in EXTRA_FIELDS else "unknown"

    @property
    def extra_fields(self) -> dict[str, Any]:
        """The non-standard request fields this server is known to accept."""
        return dict(EXTRA_FIELDS.get(self.engine, {}))

    def url(self, endpoint: str) -> str:
        """The URL of ``completions`` or ``chat``."""
        return f"{self.base_url}/v1/{'chat/completions' if endpoint == 'chat' else 'completions'}"


async def discover(http: aiohttp.ClientSession, base_url: str, model: str | None, limits: Limits | None = None) -> ServerInfo:
    """Ask ``/v1/models`` who is there and pick the model.

    Raises:
        UsageError: unreachable, not an OpenAI-compatible server, no models, or ``model`` not served.
    """
    url = f"{base_url}/v1/models"
    limits = limits or Limits()
    started = time.monotonic()
    deadline = min(LISTING_DEADLINE_S, limits.deadline_s)
    try:
        async with http.get(url, timeout=limits.timeout(deadline)) as resp:
            status, server_header = resp.status, resp.headers.get("Server")
            declared = resp.content_length
            if status == 200 and declared is not None and declared > MAX_LISTING_BYTES:
                raise Refused("too large", f"the answer declares {declared} bytes, more than the {MAX_LISTING_BYTES} "
                                           "a model list may hold")
            body, more = await read_upto(resp.content, MAX_LISTING_BYTES, started + deadline)
            if more and status == 200:
                raise Refused("too large", f"the answer is longer than the {MAX_LISTING_BYTES} bytes a model list may hold")
    except (Refused, asyncio.TimeoutError) as exc:
        refused = exc if isinstance(exc, Refused) else limits.timed_out(started, deadline)
        what = f"no complete answer within {deadline:g} s" if refused.failure == "deadline" else str(refused)
        raise UsageError(f"--base-url {base_url}: GET /v1/models: {what}") from None
    except (aiohttp.ClientError, OSError) as exc:
        os_error = getattr(exc, "os_error", None)
        why = (os_error.strerror or str(os_error)) if isinstance(os_error, OSError) else f"{type(exc).__name__}: {exc}"
        raise UsageError(f"--base-url {base_url}: cannot reach the server ({why[:200]})") from None
    if status != 200:
        raise UsageError(f"--base-url {base_url}: GET /v1/models answered HTTP {status}: not an OpenAI-compatible server")
    try:
        doc = loads(body)
    except ValueError as exc:
        if body.lstrip()[:1] in (b"{", b"["):
            raise UsageError(f"--base-url {base_url}: GET /v1/models: the model list is refused ({exc})"[:400]) from None
        doc = None
    entries = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("id"), str) for e in entries):
        raise UsageError(f"--base-url {base_url}: GET /v1/models did not answer an OpenAI model list: "
                         "not an OpenAI-compatible server")
    ids = [e["id"][:200] for e in entries]
    if not ids:
        raise UsageError(f"--base-url {base_url}: the server lists no model")
    chosen = model or ids[0]
    if chosen not in ids:
        raise UsageError(f"--model {chosen}: the server does not serve it (it lists: {', '.join(ids[:10])})")
    entry = entries[ids.index(chosen)]
    max_len = entry.get("max_model_len")

    def text(key: str) -> str | None:
        value = entry.get(key)
        return value[:200] if isinstance(value, str) else None

    return ServerInfo(base_url, chosen, ids, owned_by=text("owned_by"), root=text("root"),
                      max_model_len=max_len if isinstance(max_len, int) and not isinstance(max_len, bool)
                      and 0 < max_len < 2**40 else None,
                      server_header=server_header[:200] if server_header else None, listing=entry)


@dataclass
class Probe:
    """What the probe learnt: usage in streams, and tokens per word of random prompts."""

    usage: bool
    max_field: str
    slope: float | None = None
    intercept: float | None = None

    def words_for(self, tokens: int) -> int:
        """Words of random text for a prompt of about ``tokens`` tokens."""
        if not self.slope or self.slope <= 0:
            return tokens
        return max(1, round((tokens - (self.intercept or 0.0)) / self.slope))


def _refusal(client: OpenAIClient, rec: RequestRecord) -> UsageError:
    hint = ""
    if rec.status == 404:
        hint = " (does the server offer this endpoint? try --endpoint chat or completions)"
    elif rec.failure == "connection":
        hint = " (is the server up?)"
    return UsageError(f"probe request to {client.url} failed: {rec.error}{hint}")


async def probe(http: aiohttp.ClientSession, client: OpenAIClient, seed: int) -> Probe:
    """Send the probe requests; adjusts ``client.max_field`` when the server needs ``max_tokens``.

    Raises:
        UsageError: the endpoint does not answer a proper stream.
    """
    counts: list[tuple[int, int | None]] = []
    usage = True
    for i, words in enumerate(PROBE_WORDS):
        prompt = Prompt(2, prompt=random_text(words, seed ^ 0x5EED, i))
        rec = await client.send(http, prompt, RequestRecord(-1 - i))
        if (not rec.ok and i == 0 and client.chat and client.max_field == "max_completion_tokens"
                and (rec.status in (400, 422) or rec.failure in (OVER_CAP, COUNT_FAILURE))):
            # refused, or ignored (it streamed past the cap): a server that knows only max_tokens
            client.max_field = "max_tokens"
            rec = await client.send(http, prompt, RequestRecord(-1))
        if not rec.ok and rec.failure != "no token count":
            raise _refusal(client, rec)
        usage = usage and rec.token_source == "usage"
        counts.append((words, rec.input_tokens))
    (w1, c1), (w2, c2) = counts
    if c1 is None or c2 is None:
        return Probe(usage, client.max_field)
    slope = (c2 - c1) / (w2 - w1)
    if slope <= 0:  # counts that do not grow with the prompt (a server that reports 0): one word a token
        return Probe(usage, client.max_field)
    intercept = c1 - slope * w1
    if not MIN_TOKENS_PER_WORD <= slope <= MAX_TOKENS_PER_WORD or intercept > MAX_OVERHEAD_TOKENS:
        raise UsageError(f"probe of {client.url}: the server counts {c1} prompt tokens for {w1} words and {c2} for "
                         f"{w2}: {slope:.3g} tokens a word and {intercept:.0f} more a prompt, no tokenizer's "
                         f"({MIN_TOKENS_PER_WORD:g} to {MAX_TOKENS_PER_WORD:g} a word, under {MAX_OVERHEAD_TOKENS} "
                         "more): its usage.prompt_tokens cannot size random prompts (use a --dataset file)")
    return Probe(usage, client.max_field, slope, intercept)
