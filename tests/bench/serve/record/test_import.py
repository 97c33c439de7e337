"""`sitebench import`: vLLM bench serve results and guidellm reports (written here from their formats) into
result files, joined with a wall-meter log by wall-clock time."""

from __future__ import annotations

import json
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.record import load

C, N, TTFT, ITL, TOKENS, PROMPT = 4, 40, 0.05, 0.02, 32, 100
LATENCY = TTFT + (TOKENS - 1) * ITL
START = 1_790_000_000.25  # the benchmark's wall-clock start (Unix s)
PERF0 = 81_234.5  # vLLM's perf_counter at that moment
WATTS, IDLE_W = 500.0, 100.0


def schedule() -> list[tuple[float, list[float]]]:
    """A closed loop of C streams: (send time, token times) of each request, seconds from the start."""
    out = []
    for i in range(N):
        sent = (i // C) * (LATENCY + 0.001) + (i % C) * 0.002
        out.append((sent, [sent + TTFT + k * ITL for k in range(TOKENS)]))
    return out


def expected_window(end_after_last_token: float = 0.0) -> tuple[float, float, float]:
    """The steady window by the rule (C-th first token to the first completion after the last send) and its tokens.

    The edges fall on token events (a first token, a last token), which the files' float arithmetic may
    put a hair either side: the count is exact to one token at each edge.
    """
    reqs = schedule()
    start = sorted(t[0] for _, t in reqs)[C - 1]
    last_sent = max(s for s, _ in reqs)
    end = min(t[-1] for s, t in reqs if t[-1] >= last_sent) + end_after_last_token
    return start, end, float(sum(1 for _, times in reqs for t in times if start <= t < end))


def vllm_result(failed: set[int] = frozenset(), date: bool = True) -> dict[str, Any]:
    """A vLLM `bench serve --save-result` JSON with the keys vllm/benchmarks/serve.py writes."""
    reqs = schedule()
    ok = [i not in failed for i in range(N)]
    duration = max(t[-1] for _, t in reqs) + 0.003
    itls = [[b - a for a, b in zip(t, t[1:])] if ok[i] else [] for i, (_, t) in enumerate(reqs)]
    lat_ms = [LATENCY * 1000] * (N - len(failed))
    doc: dict[str, Any] = {
        "date": datetime.fromtimestamp(START + duration).strftime("%Y%m%d-%H%M%S"),
        "endpoint_type": "vllm", "backend": "vllm", "label": None, "model_id": "meta-llama/Llama-3.1-8B-Instruct",
        "tokenizer_id": "meta-llama/Llama-3.1-8B-Instruct", "num_prompts": N, "request_rate": "inf",
        "burstiness": 1.0, "max_concurrency": C, "duration": duration, "completed": sum(ok), "failed": len(failed),
        "total_input_tokens": PROMPT * N, "total_output_tokens": TOKENS * sum(ok),
        "request_throughput": sum(ok) / duration, "request_goodput": None,
        "output_throughput": TOKENS * sum(ok) / duration, "total_token_throughput": (PROMPT + TOKENS) * sum(ok) / duration,
        "input_lens": [PROMPT] * N, "output_lens": [TOKENS if o else 0 for o in ok],
        "ttfts": [TTFT if o else 0.0 for o in ok], "itls": itls, "latencies": [LATENCY if o else 0.0 for o in ok],
        "start_times": [PERF0 + s for s, _ in reqs], "queue_times": [0.0] * N, "generated_texts": ["x"] * N,
        "errors": ["" if o else "Internal Server Error" for o in ok],
        "max_output_tokens_per_s": 200.0, "max_concurrent_requests": C, "rtfx": 0.0,
        "mean_ttft_ms": TTFT * 1000, "median_ttft_ms": TTFT * 1000, "std_ttft_ms": 0.0, "p99_ttft_ms": TTFT * 1000,
        "mean_tpot_ms": ITL * 1000, "median_tpot_ms": ITL * 1000, "std_tpot_ms": 0.0, "p99_tpot_ms": ITL * 1000,
        "mean_itl_ms": ITL * 1000, "median_itl_ms": ITL * 1000, "std_itl_ms": 0.0, "p99_itl_ms": ITL * 1000,
        "mean_e2el_ms": statistics.mean(lat_ms), "median_e2el_ms": LATENCY * 1000, "std_e2el_ms": 0.0,
        "p99_e2el_ms": LATENCY * 1000,
    }
    if not date:
        del doc["date"]
    return doc


def guidellm_report(kept: int | None = None) -> dict[str, Any]:
    """A guidellm report (GenerativeBenchmarksReport) of one concurrent@C benchmark, Unix timings."""
    reqs = []
    for i, (sent, times) in enumerate(schedule()):
        timings = {"queued": START + sent, "request_start": START + sent, "first_token_iteration": START + times[0],
                   "last_token_iteration": START + times[-1], "token_iterations": TOKENS,
                   "request_end": START + times[-1] + 0.0005, "resolve_end": START + times[-1] + 0.001}
        reqs.append({"type_": "generative_request_stats", "request_id": f"r{i}",
                     "info": {"status": "completed", "timings": timings},
                     "input_metrics": {"text_tokens": PROMPT, "total_tokens": PROMPT},
                     "output_metrics": {"text_tokens": TOKENS, "total_tokens": TOKENS},
                     "prompt_tokens": PROMPT, "output_tokens": TOKENS, "time_to_first_token_ms": TTFT * 1000})
    end = START + max(t[-1] for _, t in schedule()) + 0.001
    bench = {"type_": "generative_benchmark", "start_time": START, "end_time": end, "duration": end - START,
             "config": {"strategy": {"type_": "concurrent", "streams": C, "startup_duration": 0.0},
                        "run_id": "run", "run_index": 0, "requests": {}, "backend": {}, "environment": {}},
             "scheduler_state": {"successful_requests": kept or N, "errored_requests": 0, "cancelled_requests": 0},
             "requests": {"successful": reqs, "errored": [], "incomplete": []}, "metrics": {}}
    return {"args": {"target": "http://gpu-node:8000", "model": "Qwen/Qwen3-8B"}, "benchmarks": [bench]}


def power_log(path: Path, *, logger_ahead_s: float = 0.0) -> Path:
    """A wall meter logging every 0.1 s: 500 W while the benchmark runs (+-0.5 s), 100 W before and after."""
    end = START + max(t[-1] for _, t in schedule())
    lines = ["timestamp,watts"]
    for k in range(-100, int((end - START) * 10) + 100):
        t = START + k / 10
        lines.append(f"{t + logger_ahead_s:.3f},{WATTS if START - 0.5 <= t <= end + 0.5 else IDLE_W}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write(path: Path, doc: dict[str, Any]) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def test_a_vllm_result_with_a_power_log_by_wall_clock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = write(tmp_path / "vllm.json", vllm_result())
    log = power_log(tmp_path / "pdu.csv", logger_ahead_s=2.0)
    rc = main(["import", result, "--power-log", str(log), "--meter-options", "scope=wall,offset=2,accuracy=0.01",
               "--start", str(START), "--base-url", "http://gpu-node:8000", "--out", "r.json"])
    assert rc == 0, capsys.readouterr().err
    assert "result file: r.json" in capsys.readouterr().err
    [run] = load("r.json").runs
    assert (run.workload, run.unit, run.device, run.status, run.verified) == ("serve", "token", "endpoint:gpu-node:8000",
                                                                             "ok", True)
    assert run.hardware is not None and run.hardware.model == "meta-llama/Llama-3.1-8B-Instruct"
    start, end, tokens = expected_window()
    assert abs(sum(run.throughput.units) - tokens) <= 2 and len(run.windows) == 5
    assert run.power.window_s == pytest.approx(end - start) and run.throughput.rate == pytest.approx(tokens / (end - start),
                                                                                                      abs=2 / (end - start))
    assert run.power.scope == "wall" and run.power.valid_for_sizing, run.power.invalid_reasons
    assert run.power.avg_w == pytest.approx(WATTS)  # the log's clock joined through offset=
    j_per_token = WATTS * (end - start) / sum(run.throughput.units)
    assert run.metrics["j_per_output_token"] == pytest.approx(j_per_token) == pytest.approx(1 / run.efficiency.per_joule)
    assert run.metrics["mean_ttft_ms"] == TTFT * 1000 and run.metrics["completed"] == N  # vLLM's own figures kept
    assert run.params["max_concurrency"] == C and run.params["request_rate"] == "inf"
    assert main(["validate", "r.json"]) == 0 and "r.json: ok" in capsys.readouterr().out
    assert main(["size", "r.json", "--mw", "1", "--json"]) == 0
    [sized] = json.loads(capsys.readouterr().out)
    assert sized["mw_per_throughput"] * 1e6 == pytest.approx(run.metrics["j_per_output_token"], rel=1e-9)


def test_the_files_date_places_a_vllm_run_to_the_second(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = write(tmp_path / "vllm.json", vllm_result())
    log = tmp_path / "flat.csv"
    log.write_text("timestamp,watts\n" + "".join(f"{START + k / 10:.3f},{WATTS}\n" for k in range(-100, 400)))
    assert main(["import", result, "--power-log", str(log), "--out", "r.json"]) == 0
    assert "+-0.5 s" in capsys.readouterr().err
    [run] = load("r.json").runs
    assert run.started is not None and abs(datetime.fromisoformat(run.started).timestamp() - START) <= 0.5 + 1e-3
    assert run.power.avg_w == pytest.approx(WATTS) and run.power.scope == "wall"


def test_without_a_power_log_power_is_absent_never_modelled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = write(tmp_path / "vllm.json", vllm_result(failed={37}))
    assert main(["import", result, "--out", "r.json"]) == 0
    assert "never modelled" in capsys.readouterr().err
    [run] = load("r.json").runs
    assert run.power.avg_w is None and run.power.energy_j is None and run.efficiency.per_joule is None
    assert run.metrics["completed"] + run.metrics["failed"] == N and run.metrics["failed"] == 1
    assert main(["validate", "r.json"]) == 0
    assert main(["size", "r.json", "--mw", "1"]) == 2 and "no power figure" in capsys.readouterr().err


def test_a_vllm_file_without_start_times_is_one_window_refused_for_sizing(tmp_path: Path) -> None:
    doc = vllm_result()
    del doc["start_times"]
    result = write(tmp_path / "old.json", doc)
    log = power_log(tmp_path / "pdu.csv")
    assert main(["import", result, "--power-log", str(log), "--start", str(START), "--out", "r.json"]) == 0
    [run] = load("r.json").runs
    assert run.throughput.units == [TOKENS * N] and not run.power.valid_for_sizing
    assert any("no per-request start times" in r for r in run.power.invalid_reasons)


def test_a_guidellm_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = write(tmp_path / "benchmarks.json", guidellm_report())
    log = power_log(tmp_path / "pdu.csv")
    assert main(["import", report, "--power-log", str(log), "--out", "g.json"]) == 0, capsys.readouterr().err
    [run] = load("g.json").runs
    assert run.device == "endpoint:gpu-node:8000" and run.hardware is not None and run.hardware.model == "Qwen/Qwen3-8B"
    assert run.params["strategy"] == f"concurrent@{C}" and run.params["max_concurrency"] == C
    start, end, tokens = expected_window(end_after_last_token=0.0005)  # guidellm's request_end follows the last token
    assert abs(sum(run.throughput.units) - tokens) <= 2 and run.power.window_s == pytest.approx(end - start)
    assert run.power.avg_w == pytest.approx(WATTS) and run.power.valid_for_sizing, run.power.invalid_reasons
    assert main(["validate", "g.json"]) == 0


@pytest.mark.parametrize(("make", "args", "message"), [
    (lambda p: p.write_text("{"), [], "not JSON"),
    (lambda p: p.write_text('{"hello": 1}'), [], "neither a vLLM bench serve result"),
    (lambda p: p.write_text(json.dumps(guidellm_report(kept=2 * N))), [], f"keeps {N} of {2 * N} successful requests"),
    (lambda p: p.write_text(json.dumps({**vllm_result(), "ttfts": [0.1]})), [], "ttfts must be a list of 40 values"),
    (lambda p: p.write_text(json.dumps(vllm_result())), ["--start", "yesterday"], "--start yesterday"),
    (lambda p: p.write_text(json.dumps(vllm_result())), ["--power-log", "missing.csv"], "--power-log missing.csv"),
    (lambda p: p.write_text(json.dumps(vllm_result())), ["--meter-options", "scope=wall"], "only with --power-log"),
    (lambda p: p.write_text(json.dumps(vllm_result(date=False))), [], "pass --start"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any,
                                          args: list[str], message: str) -> None:
    path = tmp_path / "in.json"
    make(path)
    assert main(["import", str(path), *args, "--out", "r.json"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not Path("r.json").exists()


def _lens(doc: dict[str, Any], i: int, value: Any) -> dict[str, Any]:
    doc["output_lens"][i] = value
    return doc


def _first_request(doc: dict[str, Any], **fields: Any) -> dict[str, Any]:
    doc["benchmarks"][0]["requests"]["successful"][0].update(fields)
    return doc


@pytest.mark.parametrize(("text", "args", "message"), [
    (lambda: json.dumps(_lens(vllm_result(), 3, 10**9)), [], "output_lens[3]: expected a count"),
    (lambda: json.dumps(_lens(vllm_result(), 3, 10**6)), [], "output_lens[3] says 1000000 tokens over 32 streamed chunk(s): "
                                                             "more than 16 tokens a chunk"),
    (lambda: json.dumps(_lens(vllm_result(), 3, 17 * TOKENS)), [], "more than 16 tokens a chunk"),
    (lambda: json.dumps(_lens(vllm_result(), 3, TOKENS // 2)), [], "fewer than the 32 token events"),
    (lambda: json.dumps(_lens(vllm_result(), 3, -1)), [], "output_lens[3]: expected a count"),
    (lambda: json.dumps(_first_request(guidellm_report(), output_tokens=10**9)), [], "output_tokens: expected a count"),
    (lambda: json.dumps(_first_request(guidellm_report(), output_tokens=-32)), [], "output_tokens: expected a count"),
    (lambda: json.dumps(_first_request(guidellm_report(), output_tokens=40 * TOKENS)), [], "more than 16 tokens a chunk"),
    (lambda: json.dumps(vllm_result()).replace('"duration": ', '"duration": 1, "duration": ', 1), [], "appears twice"),
    (lambda: json.dumps(vllm_result()).replace('"duration": ', '"duration": NaN, "x": ', 1), [], "NaN"),
    (lambda: '{"a": ' + "[" * 1000 + "]" * 1000 + "}", [], "nested deeper than 64"),
    (lambda: json.dumps(vllm_result()), ["--max-bytes", "1000"], "more than the 1000 an import reads (--max-bytes)"),
    (lambda: json.dumps({**vllm_result(), "mean_ttft_ms": -3.0}), [], "mean_ttft_ms is -3.0"),
])
def test_a_hostile_file_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: Any,
                                               args: list[str], message: str) -> None:
    path = tmp_path / "in.json"
    path.write_text(text())
    assert main(["import", str(path), *args, "--out", "r.json"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not Path("r.json").exists()


def test_batching_beyond_the_default_is_taken_with_its_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An engine streaming 20 tokens a chunk (--stream-interval 20): refused by default, taken when said so."""
    doc = vllm_result()
    doc["output_lens"] = [20 * TOKENS] * N
    path = write(tmp_path / "v.json", doc)
    assert main(["import", path, "--out", "r.json"]) == 2 and "--max-tokens-per-event" in capsys.readouterr().err
    assert main(["import", path, "--out", "r.json", "--max-tokens-per-event", "20"]) == 0
    [run] = load("r.json").runs
    assert run.verified and sum(run.throughput.units) > 16 * TOKENS


def test_a_guidellm_report_without_token_iterations_is_not_verified(tmp_path: Path) -> None:
    report = guidellm_report()
    for req in report["benchmarks"][0]["requests"]["successful"]:
        del req["info"]["timings"]["token_iterations"]
    assert main(["import", write(tmp_path / "g.json", report), "--out", "out.json"]) == 0
    [run] = load("out.json").runs
    assert run.status == "ok" and not run.verified and "token_iterations" in str(run.metrics["verification"])
