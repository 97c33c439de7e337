"""The streaming client against a fake server doing on demand what real servers rarely do."""

from __future__ import annotations

import math
import statistics

from bench.serve.client import OpenAIClient
from bench.serve.dataset import Prompt
from bench.serve.load import LoadResult, run_load
from bench.testing.openai_server import STANDARD, Behaviour, FakeServer
from tests.bench.serve.helpers import with_server

PROMPT = Prompt(10, prompt="one two three four")


def load(behaviour: Behaviour, *, n: int = 8, chat: bool = False, concurrency: int | None = 4,
         counter=None, extra=None, prompt: Prompt = PROMPT) -> tuple[LoadResult, FakeServer]:
    async def body(server: FakeServer) -> tuple[LoadResult, FakeServer]:
        url = server.url + ("/v1/chat/completions" if chat else "/v1/completions")
        client = OpenAIClient(url, "fake-model", chat=chat, counter=counter, extra=extra)
        return await run_load(client, [prompt] * n, max_concurrency=concurrency), server

    return with_server(behaviour, body)


def test_fixed_ttft_and_itl_are_measured_within_a_millisecond() -> None:
    result, server = load(Behaviour(ttft=0.05, itl=0.02))
    recs = result.records
    assert all(r.ok for r in recs) and server.peak_active <= 4
    itl = statistics.median(x for r in recs for x in r.itls)
    # Against the gaps the server actually left between its writes: on a loaded machine its sleeps
    # overshoot the 20 ms it asks for, and the client must measure what happened, not what was meant.
    sent = statistics.median(b - a for times in server.sent.values() for a, b in zip(times, times[1:]))
    assert abs(itl - sent) < 0.001, (itl, sent)
    assert 0.015 < sent < 0.03, sent  # paced at about 20 ms (an absolute schedule: late writes catch up)
    for r in recs:
        assert r.output_tokens == 10 and r.input_tokens == 4 and r.token_source == "usage"
        assert r.ttft is not None and r.latency is not None and 0.05 <= r.ttft <= r.latency
        assert len(r.token_times) == 10 and r.text == "tok" * 10 and r.finish_reason == "length"
    assert set(server.bodies[0]) <= STANDARD and server.bodies[0]["stream_options"] == {"include_usage": True}


def test_a_chunk_is_not_a_token() -> None:
    result, _ = load(Behaviour(tokens_per_chunk=3))
    for r in result.records:
        assert len(r.token_times) == 4 and r.output_tokens == 10


def test_failed_requests_are_counted_with_their_reasons() -> None:
    fail = {1: 429, 4: 500}
    result, _ = load(Behaviour(fail=fail.get, cut=lambda n: 3 if n == 6 else None), n=10)
    recs = result.records
    assert len(recs) == 10
    by_failure = {r.index: r.failure for r in recs if not r.ok}
    assert sorted(by_failure.values()) == ["HTTP 429", "HTTP 500", "stream cut"]
    assert all("Too Many Requests" in r.error or "Internal Server Error" in r.error or "cut" in r.error
               for r in recs if not r.ok)
    assert sum(r.ok for r in recs) == 7


def test_split_events_keepalives_and_crlf() -> None:
    text = "\u00e9\U0001f4a1"
    result, _ = load(Behaviour(text=text, split=True, keepalive=True, crlf=True, itl=0.001), n=4)
    for r in result.records:
        assert r.ok, r.error
        assert r.text == text * 10 and r.output_tokens == 10 and len(r.token_times) == 10


def test_a_usage_less_stream_needs_a_tokenizer() -> None:
    result, _ = load(Behaviour(usage=False, done=False), n=3)
    assert all(r.failure == "no token count" and "--tokenizer" in r.error for r in result.records)
    counted, _ = load(Behaviour(usage=False, done=False), n=3, counter=lambda s: len(s) // 3)
    for r in counted.records:
        assert r.ok and r.output_tokens == 10 and r.input_tokens == 6 and r.token_source == "tokenizer"


def test_chat_role_chunk_is_not_the_first_token() -> None:
    result, server = load(Behaviour(ttft=0.05), chat=True, n=2)
    for r in result.records:
        assert r.ok and r.ttft is not None and r.ttft >= 0.05 and r.input_tokens == 4 + 3
    assert server.bodies[0]["max_completion_tokens"] == 10 and "messages" in server.bodies[0]


def test_strict_servers_refuse_unknown_fields() -> None:
    result, _ = load(Behaviour(), n=1, extra={"ignore_eos": True})
    assert result.records[0].failure == "HTTP 422"
    ok, server = load(Behaviour(owned_by="vllm"), n=1, extra={"ignore_eos": True})
    assert ok.records[0].ok and server.bodies[0]["ignore_eos"] is True


def test_open_loop_rate_and_unbounded_concurrency() -> None:
    result, server = load(Behaviour(ttft=0.01), n=12, concurrency=None)
    assert all(r.ok for r in result.records) and not math.isnan(result.duration)
    assert server.peak_active <= 12
