"""The boundary of serve and import: strict bounded JSON, the SSE line cap, typed chunks, the token-count bound."""

from __future__ import annotations

import re

import pytest

from bench.serve.protocol.boundary import DuplicateKey, Refused, loads
from bench.serve.protocol.client import BAD_EVENT, COUNT_FAILURE, read_chunk
from bench.serve.protocol.counts import MAX_TOKENS_PER_EVENT, disagreement
from bench.serve.protocol.sse import TOO_LARGE, Event, SSEParser


def test_loads_is_strict() -> None:
    assert loads(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    for bad, reason in [
        (b'{"completion_tokens": 1, "completion_tokens": 2}', "appears twice"),
        (b'{"a": {"x": 1, "x": 1}}', "appears twice"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": -Infinity}', "Infinity"),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b'{"a": ' + b"9" * 5000 + b"}", "4,300 digits"),
        (b"[" * 40 + b"]" * 40, "nested deeper than 32"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 32"),
        (b'{"a": 1', "not valid JSON"),
    ]:
        with pytest.raises(ValueError, match=reason):
            loads(bad)
    with pytest.raises(DuplicateKey) as dup:
        loads(b'{"usage": {"completion_tokens": 1, "completion_tokens": 2}}')
    assert dup.value.key == "completion_tokens"
    assert loads(b"[" * 32 + b"]" * 32) is not None  # the limit itself is fine
    assert loads(b"[[], [], []]", max_containers=4) == [[], [], []]
    with pytest.raises(ValueError, match="more than 3 objects"):
        loads(b"[[], [], []]", max_containers=3)


def test_an_sse_line_or_event_over_the_cap_is_refused_as_it_arrives() -> None:
    parser = SSEParser(max_bytes=100)
    with pytest.raises(Refused) as cut:
        for _ in range(10):  # a data: line that never ends, 40 bytes a read: refused at the third read
            parser.feed(b"data: " + b"x" * 34)
    assert cut.value.failure == TOO_LARGE and "--max-event-bytes" in str(cut.value)
    with pytest.raises(Refused):
        SSEParser(max_bytes=100).feed(b"data: " + b"x" * 200 + b"\n\n")  # a long line complete in one read
    with pytest.raises(Refused):  # many data: lines of one event add up
        SSEParser(max_bytes=100).feed(b"data: " + b"x" * 60 + b"\ndata: " + b"y" * 60 + b"\n")
    parser = SSEParser(max_bytes=100)
    events = [e for _ in range(5) for e in parser.feed(b"data: " + b"x" * 90 + b"\n\n")]
    assert events == [Event("message", b"x" * 90)] * 5  # lines under the cap, however many


@pytest.mark.parametrize(("obj", "failure", "reason"), [
    ([1], BAD_EVENT, "JSON list, not an object"),
    ({"choices": {"0": {"text": "a"}}}, BAD_EVENT, "choices is a dict, not a list"),
    ({"choices": ["a"]}, BAD_EVENT, "choices[0] is a str"),
    ({"choices": [{"text": 5}]}, BAD_EVENT, "text is a int"),
    ({"choices": [{"text": "a", "finish_reason": 3}]}, BAD_EVENT, "finish_reason is a int"),
    ({"usage": [6]}, COUNT_FAILURE, "usage is a list"),
    ({"usage": {"completion_tokens": -6}}, COUNT_FAILURE, "not a count"),
    ({"usage": {"completion_tokens": 6.0}}, COUNT_FAILURE, "not a count"),
    ({"usage": {"completion_tokens": True}}, COUNT_FAILURE, "not a count"),
    ({"usage": {"completion_tokens": "6"}}, COUNT_FAILURE, "not a count"),
    ({"usage": {"completion_tokens": 10**12}}, COUNT_FAILURE, "not a count"),
    ({"usage": {"completion_tokens": 6, "prompt_tokens": -16}}, COUNT_FAILURE, "prompt_tokens is -16"),
])
def test_a_chunk_is_read_into_typed_bounded_values(obj: object, failure: str, reason: str) -> None:
    with pytest.raises(Refused, match=re.escape(reason)) as refused:
        read_chunk(obj, chat=False)
    assert refused.value.failure == failure


def test_token_events_closing_chunks_and_role_chunks() -> None:
    token = read_chunk({"choices": [{"text": "a", "finish_reason": None}]}, chat=False)
    assert token.token and token.text == "a" and not token.closer
    special = read_chunk({"choices": [{"text": "", "finish_reason": None}]}, chat=False)
    assert special.token and not special.closer  # a special token: an event without text
    closer = read_chunk({"choices": [{"text": "", "finish_reason": "length"}]}, chat=False)
    assert not closer.token and closer.closer and closer.finish_reason == "length"
    role = read_chunk({"choices": [{"delta": {"role": "assistant", "content": ""}}]}, chat=True)
    assert not role.token and not role.closer
    chat_closer = read_chunk({"choices": [{"delta": {}, "finish_reason": "stop"}]}, chat=True)
    assert chat_closer.closer and not chat_closer.token
    usage = read_chunk({"choices": [], "usage": {"completion_tokens": 6, "prompt_tokens": 16}}, chat=True)
    assert (usage.completion_tokens, usage.prompt_tokens, usage.token) == (6, 16, False)
    assert read_chunk({"error": {"message": "boom"}}, chat=False).error == "{'message': 'boom'}"


def test_the_token_count_bound() -> None:
    k = MAX_TOKENS_PER_EVENT
    assert disagreement(10, 10, cap=10) is None
    assert disagreement(10, 4, cap=10) is None  # several tokens a chunk
    assert disagreement(2, 0, carriers=1, cap=2) is None  # held back whole, in the closing chunk
    assert "fewer than the 10 token events" in (disagreement(9, 10) or "")
    assert "more than the 10 the request asked for" in (disagreement(20, 10, cap=10) or "")
    assert f"more than {k} tokens a chunk" in (disagreement(k * 2 + 1, 2, cap=1000) or "")
    assert disagreement(k * 2, 2, cap=1000) is None
    assert "not a count" in (disagreement(-1, 0) or "")
    assert disagreement(30, 32, slack=2) is None and disagreement(29, 32, slack=2) is not None  # an import's chunks
    assert disagreement(40, 2, per_event=20) is None  # --max-tokens-per-event for an engine streaming in batches
