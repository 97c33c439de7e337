"""vLLM's metric definitions on hand-made request records."""

from __future__ import annotations

import pytest

from bench.errors import UsageError
from bench.serve.measure.metrics import compute, parse_goodput, token_source
from bench.serve.protocol.records import RequestRecord


def rec(i: int, sent: float, times: list[float], out: int, inp: int = 10, ok: bool = True) -> RequestRecord:
    r = RequestRecord(i, arrival=sent, dispatched=sent, token_times=times, end=times[-1] if times else sent + 1,
                      ok=ok, input_tokens=inp, output_tokens=out, token_source="usage")
    if not ok:
        r.failure, r.error = "HTTP 500", "HTTP 500 Internal Server Error: boom"
    return r


def test_definitions() -> None:
    # request 0: TTFT 0.1, three events, 5 tokens (two chunks carried 2 tokens): TPOT = (0.5 - 0.1) / 4
    a = rec(0, 0.0, [0.1, 0.3, 0.5], out=5)
    # request 1: TTFT 0.2, one event, one token: no TPOT, no ITL
    b = rec(1, 1.0, [1.2], out=1, inp=20)
    c = rec(2, 1.0, [], out=0, ok=False)
    m = compute([a, b, c], duration=2.0, slos={"ttft": 150})
    assert (m.completed, m.failed, m.total_input, m.total_output) == (2, 1, 30, 6)
    assert m.request_throughput == pytest.approx(1.0, rel=1e-12) and m.output_throughput == pytest.approx(3.0, rel=1e-12)
    assert m.total_token_throughput == pytest.approx(18.0, rel=1e-12)
    assert m.ttft.mean == pytest.approx(150.0) and m.ttft.median == pytest.approx(150.0)
    assert m.ttft.p["p90"] == pytest.approx(190.0)  # linear interpolation between 100 and 200 ms
    assert m.tpot.count == 1 and m.tpot.mean == pytest.approx(100.0)
    assert m.itl.count == 2 and m.itl.mean == pytest.approx(200.0) and m.itl.std == pytest.approx(0.0, abs=1e-9)
    assert m.e2el.p["p50"] == pytest.approx(350.0)  # latencies 500 and 200 ms
    assert m.request_goodput == pytest.approx(0.5, rel=1e-12)  # only request 0 meets TTFT <= 150 ms
    assert m.failures == {"HTTP 500": 1}
    assert m.max_concurrent_requests == 1
    assert m.max_output_tokens_per_s == pytest.approx(5.0)


def test_goodput_counts_tpot_of_a_one_token_answer_as_zero_like_vllm() -> None:
    m = compute([rec(0, 0.0, [0.05], out=1)], duration=1.0, slos={"tpot": 0})
    assert m.request_goodput == pytest.approx(1.0, rel=1e-12)


def test_empty_runs_have_no_figures() -> None:
    m = compute([rec(0, 0.0, [], out=0, ok=False)], duration=1.0)
    assert m.completed == 0 and m.ttft.mean is None and m.ttft.p["p99"] is None and m.request_goodput is None


def test_goodput_parse() -> None:
    assert parse_goodput("ttft:500,tpot:50") == {"ttft": 500.0, "tpot": 50.0}
    assert parse_goodput("e2el:1000 ttft:1") == {"e2el": 1000.0, "ttft": 1.0}
    for bad in ("ttft", "ttft:-1", "speed:3", "ttft:abc"):
        with pytest.raises(UsageError, match="--goodput"):
            parse_goodput(bad)


def test_token_source() -> None:
    a, b = rec(0, 0, [1], 1), rec(1, 0, [1], 1)
    assert token_source([a, b]) == "usage"
    b.token_source = "tokenizer"
    assert token_source([a, b]) == "tokenizer+usage"
