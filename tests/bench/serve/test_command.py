"""`sitebench serve` end to end against the fake server: output, failures mid-run, bad input."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.record import load
from bench.testing.openai_server import Behaviour, FakeServer, ServerThread
from bench.validation import validate_file

SMALL = ["--dataset", "random:in=8,out=6", "--num-prompts", "24", "--max-concurrency", "4"]
PERIOD_S = 0.05
METER = f"metric=DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION,period={PERIOD_S}"


def serve(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["serve", *args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with ServerThread(Behaviour(ttft=0.005, itl=0.002, watts=[250.0])) as server:
        yield server


def test_json_has_vllm_keys_and_energy(fake: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = serve(capsys, "--base-url", fake.url + "/v1", *SMALL, "--json", "--goodput", "ttft:1000",
                         "--meter", f"prometheus:{fake.url}/metrics,{METER}")
    assert rc == 0, err
    doc = json.loads(out)
    for key in ("duration", "completed", "failed", "total_input_tokens", "total_output_tokens", "request_throughput",
                "request_goodput", "output_throughput", "total_token_throughput", "mean_ttft_ms", "median_tpot_ms",
                "p99_itl_ms", "p90_e2el_ms", "std_ttft_ms", "input_lens", "output_lens", "ttfts", "itls", "latencies",
                "errors", "max_concurrent_requests", "steady_state_duration", "steady_state_energy_per_token"):
        assert key in doc, key
    assert doc["completed"] == 24 and doc["output_lens"] == [6] * 24 and doc["request_rate"] == "inf"
    assert doc["model_id"] == "fake-model" and doc["backend"] == "openai" and doc["max_concurrency"] == 4
    assert doc["request_goodput"] == pytest.approx(doc["request_throughput"])
    assert doc["sitebench"]["token_source"] == "usage" and doc["sitebench"]["energy"]["scope"] == "gpu:0"
    assert doc["steady_state_energy_per_token"] == pytest.approx(doc["sitebench"]["energy"]["j_per_output_token"])


def test_table_and_a_server_that_fails_mid_run(capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(Behaviour(fail=lambda n: 500 if n >= 14 else None)) as server:
        rc, out, err = serve(capsys, "--base-url", server.url, *SMALL)
    assert rc == 0 and "Traceback" not in err
    assert "requests ok / failed" in out and "/ 12 (HTTP 500 x12)" in out  # 2 probe requests come first
    assert "HTTP 500 Internal Server Error" in err


def test_a_server_that_fails_everything_is_a_failed_run(capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(Behaviour(fail=lambda n: 503 if n >= 2 else None)) as server:
        rc, out, err = serve(capsys, "--base-url", server.url, *SMALL, "--json")
    assert rc == 1 and json.loads(out)["failed"] == 24 and "Traceback" not in err


class HtmlServer(ThreadingHTTPServer):
    """Not an OpenAI server: a web page on every path (or 404)."""

    daemon_threads = True

    def __init__(self, status: int) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html>hello</html>")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("status", [200, 404])
def test_a_non_openai_server(status: int, capsys: pytest.CaptureFixture[str]) -> None:
    web = HtmlServer(status)
    try:
        rc, _, err = serve(capsys, "--base-url", f"http://127.0.0.1:{web.server_address[1]}")
    finally:
        web.shutdown()
        web.server_close()
    assert rc == 2 and "not an OpenAI-compatible server" in err and len(err.strip().splitlines()) == 1


def test_bad_input_is_one_line_and_exit_2(fake: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"prompt": 3}\n')
    cases = [
        (["--base-url", f"http://127.0.0.1:{closed_port()}"], "cannot reach the server"),
        (["--base-url", "localhost:8000"], "expected http(s)://HOST"),
        (["--base-url", fake.url, "--model", "other"], "--model other: the server does not serve it (it lists: fake-model)"),
        (["--base-url", fake.url, "--dataset", str(bad)], "line 2: 'prompt' must be a non-empty string"),
        (["--base-url", fake.url, "--dataset", "random:in=0,out=1"], "random:in=N,out=M"),
        (["--base-url", fake.url, "--request-rate", "0"], "--request-rate 0: must be positive"),
        (["--base-url", fake.url, "--request-rate", "-2"], "--request-rate -2: must be positive"),
        (["--base-url", fake.url, "--request-rate", "fast"], "expected numbers or inf"),
        (["--base-url", fake.url, "--max-concurrency", "0"], "--max-concurrency 0: must be at least 1"),
        (["--base-url", fake.url, "--burstiness", "0"], "--burstiness 0: must be positive"),
        (["--base-url", fake.url, "--goodput", "speed:3"], "--goodput"),
        (["--base-url", fake.url, "--out", str(tmp_path)], f"--out {tmp_path}: is a directory"),
        (["--base-url", fake.url, "--tokenizer", str(tmp_path)], "no tokenizer.json"),
        (["--base-url", fake.url, "--meter", "prometheus:http://127.0.0.1:9/metrics,metric=x_joules,scope=node"],
         "--meter prometheus:"),
    ]
    for args, message in cases:
        rc, _, err = serve(capsys, *args, "--num-prompts", "2")
        assert rc == 2, (args, err)
        assert message in err and len(err.strip().splitlines()) == 1, (args, err)
    assert fake.requests == 0 and not Path("results").exists()  # refused before any request or file


def test_a_server_without_usage_needs_a_tokenizer(capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(Behaviour(usage=False)) as server:
        rc, _, err = serve(capsys, "--base-url", server.url, *SMALL)
    assert rc == 2 and "carry no token usage" in err and "--tokenizer" in err


def test_a_server_without_usage_counted_by_a_local_tokenizer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"tok": 0, "[UNK]": 1}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(tmp_path / "tokenizer.json"))
    with ServerThread(Behaviour(usage=False, text="tok ")) as server:
        rc, out, err = serve(capsys, "--base-url", server.url, *SMALL, "--json", "--tokenizer", str(tmp_path))
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["sitebench"]["token_source"] == "tokenizer" and doc["output_lens"] == [6] * 24


def test_a_chat_server_that_knows_only_max_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(Behaviour(legacy_chat=True)) as server:
        rc, out, err = serve(capsys, "--base-url", server.url, *SMALL, "--json", "--endpoint", "chat")
        bodies = server.bodies
    assert rc == 0, err
    assert json.loads(out)["completed"] == 24 and json.loads(out)["backend"] == "openai-chat"
    assert "max_completion_tokens" in bodies[0] and all("max_tokens" in b for b in bodies[2:])


NODE_METER = f"metric=DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION,period={PERIOD_S},scope=node"
#: the scrape jitter of a held counter (bench.serve.measure.energy): up to period / 2 plus a fetch at each edge
JITTER_S = PERIOD_S / 2 + 0.15  # a fetch of the page, each edge: up to 150 ms on a loaded 2-core machine


def test_the_result_file_through_the_whole_chain(fake: FakeServer, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = serve(capsys, "--base-url", fake.url, "--dataset", "random:in=8,out=20", "--num-prompts", "120",
                         "--max-concurrency", "4", "--out", "r.json", "--meter", f"prometheus:{fake.url}/metrics,{NODE_METER}")
    assert rc == 0, err
    assert "result file: r.json" in err and "J/token" in out and "per M tok/s" in out
    doc = load("r.json")
    [run] = doc.runs
    assert (run.workload, run.unit, run.status, run.verified) == ("serve", "token", "ok", True)
    assert run.device == f"endpoint:127.0.0.1:{fake.port}" and run.hardware is not None
    assert doc.system.hostname == socket.gethostname()  # the client's host; the endpoint is in hardware
    p, mt = run.power, run.metrics
    assert p.valid_for_sizing and p.scope == "node" and p.scope_class == "node", p.invalid_reasons
    assert mt["completed"] + mt["failed"] == 120 and mt["failed"] == 0 and mt["total_output_tokens"] == 120 * 20
    # J per output token: 250 W over the steady window, to the scrape jitter
    assert p.energy_j == pytest.approx(250.0 * p.window_s, abs=250.0 * JITTER_S)
    j_per_token = mt["j_per_output_token"]
    assert j_per_token == pytest.approx(1 / run.efficiency.per_joule) == pytest.approx(p.energy_j / sum(run.throughput.units))

    assert main(["validate", "r.json"]) == 0 and "r.json: ok" in capsys.readouterr().out
    assert validate_file("r.json").findings == []  # not even a note
    assert main(["size", "r.json", "--mw", "10", "--pue", "1.2", "--json"]) == 0
    [sized] = json.loads(capsys.readouterr().out)
    assert sized["mw_per_throughput"] * 1e6 == pytest.approx(j_per_token * 1.2, rel=1e-9)  # MW per M tok/s
    assert sized["system"] == "fake-model" and sized["unit"] == "token"
    (tmp_path / "p.toml").write_text('[plan]\nname = "t"\npue = 1.2\navailability = 1.0\n\n[[allocation]]\n'
                                     'name = "a"\nmw = 10\n\n  [[allocation.use]]\n  name = "inference"\n'
                                     '  share = 1.0\n  result = "r.json"\n')
    assert main(["plan", "p.toml", "--json"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["report", "r.json", "--out", "r.html"]) == 0
    html = Path("r.html").read_text()
    assert "serve" in html and "fake-model" in html
    assert main(["compare", "r.json", "r.json"]) == 0
    Path("store/site/serve").mkdir(parents=True)  # the submission store's ORG/SUBMISSION/FILE layout
    shutil.copy("r.json", "store/site/serve/r.json")
    capsys.readouterr()
    assert main(["leaderboard", "store", "--json"]) == 0
    assert [e["workload"] for e in json.loads(capsys.readouterr().out)] == ["serve"]


def test_a_sweep_is_one_run_per_point_and_failures_refuse_the_window(capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(Behaviour(ttft=0.002, itl=0.001, fail=lambda n: 429 if n % 9 == 4 else None)) as server:
        rc, _, err = serve(capsys, "--base-url", server.url, "--dataset", "random:in=8,out=10", "--num-prompts", "60",
                           "--max-concurrency", "2,4", "--out", "s.json", "--meter", "model")
    assert rc == 0, err
    doc = load("s.json")
    assert [r.params["max_concurrency"] for r in doc.runs] == [2, 4] and all(r.ok for r in doc.runs)
    for run in doc.runs:
        mt = run.metrics
        assert mt["completed"] + mt["failed"] == 60 and mt["failures.HTTP 429"] == mt["failed"] > 0
        assert not run.power.valid_for_sizing
        assert any("failed inside the window" in r for r in run.power.invalid_reasons), run.power.invalid_reasons
    assert main(["size", "s.json", "--mw", "1"]) == 2 and "no usable runs" in capsys.readouterr().err
    assert main(["validate", "s.json"]) == 0


def test_no_request_completes_a_failed_run_in_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(Behaviour(fail=lambda n: 500 if n >= 2 else None)) as server:
        rc, _, err = serve(capsys, "--base-url", server.url, *SMALL, "--out", "f.json")
    assert rc == 1 and "failed:" in err
    [run] = load("f.json").runs
    assert run.status == "failed" and run.error == "no request completed" and run.metrics["failures.HTTP 500"] == 24


def test_an_honest_server_whose_tokens_show_no_text_is_measured(capsys: pytest.CaptureFixture[str]) -> None:
    """The transformers-serve case: the probe's 2 tokens, and each answer's 6, held back inside UTF-8 characters."""
    with ServerThread(Behaviour(hold=6, closer=True)) as server:
        rc, out, err = serve(capsys, "--base-url", server.url, *SMALL, "--json", "--out", "h.json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["completed"] == 24 and doc["output_lens"] == [6] * 24 and all(t > 0 for t in doc["ttfts"])
    [run] = load("h.json").runs
    assert run.verified and run.status == "ok"


LIMITS = ["--timeout", "1", "--deadline", "2"]


@pytest.mark.parametrize(("behaviour", "message"), [
    (Behaviour(prompt_tokens=lambda n: -n), "usage.prompt_tokens is -16: not a count"),
    (Behaviour(prompt_tokens=lambda n: n * 1000), "no tokenizer's"),
    (Behaviour(usage_tokens=lambda n: 2 * n), "usage says 4 tokens, more than the 2 the request asked for"),
    (Behaviour(misbehave="endless"), "more token events than the 2 tokens asked for"),
    (Behaviour(misbehave="trickle", trickle_s=0.2), "did not end within its deadline of 2 s"),
    (Behaviour(misbehave="huge-models", size=600 << 20), "the answer declares 629145"),
    (Behaviour(misbehave="huge-models-chunked", size=100 << 20), "longer than the 16777216 bytes a model list may hold"),
    (Behaviour(misbehave="deep-models", size=10_000), "nested deeper than 32"),
    (Behaviour(misbehave="trickle-models", trickle_s=0.2), "GET /v1/models: no complete answer within 2 s"),
])
def test_a_hostile_server_is_refused_in_one_line(behaviour: Behaviour, message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with ServerThread(behaviour) as server:
        rc, _, err = serve(capsys, "--base-url", server.url, *SMALL, *LIMITS)
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not Path("results").exists()


def test_a_chat_server_that_ignores_max_completion_tokens_is_sent_max_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    """Its first probe streams past the cap: the probe falls back to max_tokens, as for a server that refuses the field."""
    with ServerThread(Behaviour(misbehave="endless", bad=lambda n: n == 0)) as server:
        rc, out, err = serve(capsys, "--base-url", server.url, *SMALL, *LIMITS, "--json", "--endpoint", "chat")
        bodies = server.bodies
    assert rc == 0, err
    assert json.loads(out)["completed"] == 24 and "max_completion_tokens" in bodies[0]
    assert all("max_tokens" in b for b in bodies[1:])


def test_a_server_that_lies_on_some_requests_is_measured_and_not_verified(capsys: pytest.CaptureFixture[str]) -> None:
    lies = Behaviour(usage_tokens=lambda n: 2 * n, bad=lambda n: n >= 2 and n % 4 == 0)
    with ServerThread(lies) as server:
        rc, _, err = serve(capsys, "--base-url", server.url, *SMALL, *LIMITS, "--out", "l.json")
    assert "Traceback" not in err
    [run] = load("l.json").runs
    mt = run.metrics
    assert mt["completed"] == 18 and mt["failures.token count"] == 6 and mt["total_output_tokens"] == 18 * 6
    assert not run.verified and "more than the 6 the request asked for" in str(mt["verification"])


@pytest.mark.parametrize(("option", "value"), [("--deadline", "0"), ("--deadline", "inf"), ("--max-response-bytes", "0"),
                                                ("--max-event-bytes", "-1"), ("--max-tokens-per-event", "0")])
def test_limits_must_be_positive(option: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = serve(capsys, "--base-url", "http://127.0.0.1:9", option, value)
    assert rc == 2 and option in err and len(err.strip().splitlines()) == 1, err
