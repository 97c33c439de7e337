"""The boundary what ``serve`` and ``import`` read from outside crosses: bounded bytes, time and JSON.

A server's answers (the model list, error bodies, streamed events) and an imported file are
hostile until checked. Every HTTP request of ``sitebench serve`` is bounded by :class:`Limits`,
whose defaults are the module constants:

- :data:`DEFAULT_READ_TIMEOUT_S` (300 s, ``--timeout``): the longest silence: connecting, waiting
  for the answer's head, and between any two reads of its body;
- :data:`DEFAULT_DEADLINE_S` (3,600 s, ``--deadline``): the whole request, from sending it to the
  end of its answer, however the bytes come: an endless stream, or one trickled a byte at a time,
  costs this, never more (vLLM's client allows 6 h; an hour is far beyond any request of a
  benchmark, queueing at a saturated server included);
- :data:`DEFAULT_MAX_RESPONSE_BYTES` (64 MiB, ``--max-response-bytes``): one streamed answer, keep-alive
  comments included (a 1,000-token answer is some 300 kB);
- :data:`DEFAULT_MAX_EVENT_BYTES` (1 MiB, ``--max-event-bytes``): one line, and one event, of the SSE
  stream (a chunk of one token is some 300 bytes): a longer ``data:`` line is refused as it
  arrives, never held whole;
- :data:`MAX_LISTING_BYTES` (16 MiB) and :data:`LISTING_DEADLINE_S` (30 s): ``GET /v1/models``;
- :data:`ERROR_BODY_BYTES` (64 KiB): an error answer (HTTP >= 400) is read this far, then dropped;
- :data:`MAX_DEPTH` (32): the nesting of objects and arrays in one event or the model list
  (a chunk nests 4 deep).

Anything outside them is one :class:`Refused` with the reason: one failed request (the load goes
on), or one line for the model list and the probe. JSON crosses through :func:`loads`: UTF-8, no
``NaN`` or infinities, no key twice in one object (the last would silently win: two
``completion_tokens`` could say two things), the nesting limit, and for files a limit on the
objects and arrays held (:func:`loads` ``max_containers``). Typed values are then read from it by
the caller, each with its bounds (:mod:`bench.serve.protocol.client`, :mod:`bench.serve.record.formats`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

#: Seconds a server may stay silent: connecting, before its answer's head, between reads (``--timeout``).
DEFAULT_READ_TIMEOUT_S = 300.0
#: Seconds one request may take in all, its answer read to the end (``--deadline``).
DEFAULT_DEADLINE_S = 3600.0
#: Bytes of one streamed answer (``--max-response-bytes``).
DEFAULT_MAX_RESPONSE_BYTES = 64 << 20
#: Bytes of one SSE line or event (``--max-event-bytes``).
DEFAULT_MAX_EVENT_BYTES = 1 << 20
#: Bytes of the ``GET /v1/models`` answer (a list of 10,000 LoRA adapters is some 3 MB).
MAX_LISTING_BYTES = 16 << 20
#: Seconds ``GET /v1/models`` may take in all.
LISTING_DEADLINE_S = 30.0
#: Bytes of an error answer read (its first :data:`bench.serve.protocol.client.ERROR_BODY_CHARS` are shown).
ERROR_BODY_BYTES = 64 << 10
#: Nesting of objects and arrays in one event or the model list.
MAX_DEPTH = 32
#: Seconds to open a connection, at most (the read timeout when it is shorter).
CONNECT_TIMEOUT_S = 30.0


class Refused(ValueError):
    """Something outside the boundary's bounds; ``failure`` is its class (a failed request's reason)."""

    def __init__(self, failure: str, message: str) -> None:
        super().__init__(message)
        self.failure = failure


@dataclass(frozen=True)
class Limits:
    """The bounds of every request to the server (see the module)."""

    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    deadline_s: float = DEFAULT_DEADLINE_S
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES

    def timeout(self, deadline_s: float | None = None) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts: the total is the deadline, each socket read the read timeout."""
        total = self.deadline_s if deadline_s is None else deadline_s
        read = min(self.read_timeout_s, total)
        return aiohttp.ClientTimeout(total=total, sock_connect=min(CONNECT_TIMEOUT_S, read), sock_read=read)

    def timed_out(self, started: float, deadline_s: float | None = None) -> Refused:
        """The refusal for an aiohttp timeout of a request sent at ``started``: its deadline or one read."""
        total = self.deadline_s if deadline_s is None else deadline_s
        if time.monotonic() - started >= total - 1e-3:
            return Refused("deadline", f"the request did not end within its deadline of {total:g} s")
        return Refused("timeout", f"no bytes from the server within the read timeout of {min(self.read_timeout_s, total):g} s")


#: The defaults.
LIMITS = Limits()


async def read_upto(content: aiohttp.StreamReader, limit: int, end: float) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of a body, by ``end`` (monotonic s); (the bytes, whether there were more).

    Raises:
        Refused: the deadline passed (class ``deadline``).
    """
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await content.readany()
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
        if time.monotonic() > end:
            raise Refused("deadline", "the answer did not end within its deadline")
    return b"".join(chunks)[:limit], True


# --- strict, bounded JSON ----------------------------------------------------------------------------------

class DuplicateKey(ValueError):
    """A key twice in one JSON object (``key`` names it)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key {key[:60]!r} appears twice in one object")
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        raise DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
    return obj


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


#: One decoder for every document (building one per call costs as much as decoding a streamed event).
_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant)


def _deeper_than(doc: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def loads(data: bytes | str, *, depth: int = MAX_DEPTH, max_containers: int | None = None) -> Any:
    """Strict, bounded JSON (see the module).

    Args:
        depth: the deepest nesting of objects and arrays accepted.
        max_containers: the most objects and arrays (brackets of either kind, counted before
            parsing, strings included: an upper bound) accepted; None: no limit (the caller
            bounds the bytes).

    Raises:
        ValueError: with the reason (not UTF-8, not JSON, NaN, an integer of more than 4,300 digits,
            too deep, too many); :class:`DuplicateKey` for a key twice.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    else:
        text = data
    opened = text.count("{") + text.count("[")
    if max_containers is not None and opened + text.count("}") + text.count("]") > 2 * max_containers:
        raise ValueError(f"more than {max_containers} objects and arrays")
    try:
        doc = _DECODER.decode(text)
    except RecursionError:
        raise ValueError(f"nested deeper than {depth} objects and arrays") from None
    except DuplicateKey as exc:
        raise DuplicateKey(exc.key) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:  # a NaN or Infinity, an integer past Python's limit of digits
        if "integer string conversion" in str(exc):
            raise ValueError("an integer of more than 4,300 digits") from None
        raise ValueError(str(exc)[:200]) from None
    if opened > depth and isinstance(doc, (dict, list)) and _deeper_than(doc, depth):
        raise ValueError(f"nested deeper than {depth} objects and arrays")
    return doc
