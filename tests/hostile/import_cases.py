"""Hostile files: hand-made vLLM ``bench serve`` results and guidellm reports, against ``sitebench import``.

Each case writes one file (an honest one, changed in one hostile way) and runs ``sitebench import`` on it
in a bounded child process (:func:`tests.hostile.framework.sitebench`: 3 GB of address space). The honest
files hold :data:`N` requests of :data:`TOKENS` tokens each, streamed one token a chunk. A case is judged
on what came out:

- ``traceback`` / ``hang``: the child showed a traceback, ran out of memory, or took longer than
  :data:`HANG_S`;
- ``lie``: a run recorded ``verified`` with more output tokens than :data:`LIE_MARGIN` x all the tokens
  the honest file holds (a count the file's token events cannot explain was believed);
- ``lost``: an honest file (or one whose oddity is harmless) not imported, or imported but not verified
  where it should be;
- ``ok`` otherwise: refused in one clear line (exit 2), or imported truthfully.

``python benchmarks/hostile_sources.py --source import -v`` runs them all.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.hostile.framework import Case, Outcome, Ran, sitebench

SOURCE = "import"
C, N, TTFT, ITL, TOKENS, PROMPT = 4, 40, 0.05, 0.02, 32, 100
LATENCY = TTFT + (TOKENS - 1) * ITL
START = 1_790_000_000.25
PERF0 = 81_234.5
#: Longer than any bounded import takes (a file at the byte limit parses in seconds).
HANG_S = 60.0
LIE_MARGIN = 1.1


def schedule(per_chunk: int = 1) -> list[tuple[float, list[float]]]:
    """A closed loop of C streams: (send time, chunk times) of each request, seconds from the start."""
    out = []
    for i in range(N):
        sent = (i // C) * (LATENCY + 0.001) + (i % C) * 0.002
        out.append((sent, [sent + TTFT + k * ITL for k in range(0, TOKENS, per_chunk)]))
    return out


def vllm_doc(per_chunk: int = 1, role_chunk: bool = False) -> dict[str, Any]:
    """An honest vLLM ``bench serve --save-result`` JSON (``role_chunk``: a chat stream whose role chunk vLLM timed)."""
    reqs = schedule(per_chunk)
    if role_chunk:
        reqs = [(s, [t[0] - 0.001, *t]) for s, t in reqs]
    duration = max(t[-1] for _, t in reqs) + 0.003
    return {
        "date": datetime.fromtimestamp(START + duration).strftime("%Y%m%d-%H%M%S"), "backend": "vllm",
        "model_id": "meta-llama/Llama-3.1-8B-Instruct", "num_prompts": N, "request_rate": "inf", "burstiness": 1.0,
        "max_concurrency": C, "duration": duration, "completed": N, "failed": 0, "total_input_tokens": PROMPT * N,
        "total_output_tokens": TOKENS * N, "mean_ttft_ms": TTFT * 1000, "median_itl_ms": ITL * 1000,
        "input_lens": [PROMPT] * N, "output_lens": [TOKENS] * N, "ttfts": [t[0] - s for s, t in reqs],
        "itls": [[b - a for a, b in zip(t, t[1:])] for _, t in reqs], "latencies": [t[-1] - s for s, t in reqs],
        "start_times": [PERF0 + s for s, _ in reqs], "queue_times": [0.0] * N, "errors": [""] * N,
        "generated_texts": ["x"] * N,
    }


def guidellm_doc() -> dict[str, Any]:
    """An honest guidellm report of one concurrent@C benchmark."""
    reqs = []
    for i, (sent, times) in enumerate(schedule()):
        timings = {"queued": START + sent, "request_start": START + sent, "first_token_iteration": START + times[0],
                   "last_token_iteration": START + times[-1], "token_iterations": TOKENS,
                   "request_end": START + times[-1] + 0.0005}
        reqs.append({"request_id": f"r{i}", "info": {"status": "completed", "timings": timings},
                     "input_metrics": {"total_tokens": PROMPT}, "output_metrics": {"total_tokens": TOKENS},
                     "prompt_tokens": PROMPT, "output_tokens": TOKENS})
    end = START + max(t[-1] for _, t in schedule()) + 0.001
    bench = {"start_time": START, "end_time": end, "config": {"strategy": {"type_": "concurrent", "streams": C}},
             "scheduler_state": {"successful_requests": N},
             "requests": {"successful": reqs, "errored": [], "incomplete": []}}
    return {"args": {"target": "http://gpu-node:8000", "model": "Qwen/Qwen3-8B"}, "benchmarks": [bench]}


# --- running sitebench import --------------------------------------------------------------------------------

def _tail(ran: Ran) -> str:
    return (ran.stderr.strip().splitlines() or ran.stdout.strip().splitlines() or [""])[-1][:300]


def _import(write: Callable[[Path], None], *, expect: str, verified: bool = True) -> Callable[[Path], Outcome]:
    """``sitebench import`` of the file ``write`` makes; ``expect`` ``refused`` (exit 2, one line), ``file`` or ``either``."""

    def run(tmp: Path) -> Outcome:
        src, out = tmp / "in.json", tmp / "r.json"
        write(src)
        t0 = time.monotonic()
        ran = sitebench("import", str(src), "--out", str(out), timeout_s=HANG_S + 15)
        took = time.monotonic() - t0
        verdict = ran.verdict_of_process()
        if verdict is not None:
            return Outcome(verdict, f"after {took:.1f} s: {_tail(ran)}")
        if took > HANG_S:
            return Outcome("hang", f"took {took:.1f} s")
        if not out.exists():
            if expect in ("refused", "either") and ran.returncode in (1, 2) and len(ran.stderr.strip().splitlines()) == 1:
                return Outcome("ok", f"{took:.1f} s, refused: {_tail(ran)}")
            return Outcome("lost", f"exit {ran.returncode}, no result file: {_tail(ran)}")
        try:
            runs = json.loads(out.read_text(encoding="utf-8"))["runs"]
        except (ValueError, KeyError, TypeError) as exc:
            return Outcome("lost", f"the result file does not read: {exc}")
        for r in runs:
            units = sum((r.get("throughput") or {}).get("units") or [])
            if r.get("verified") and units > LIE_MARGIN * N * TOKENS:
                return Outcome("lie", f"verified with {units:.3g} output tokens, the file's streams carried at most "
                                      f"{N * TOKENS}")
        if expect == "file" and verified and not all(r.get("status") == "ok" and r.get("verified") for r in runs):
            r = runs[0]
            return Outcome("lost", f"an honest file not verified: {r.get('status')}, "
                                   f"{(r.get('metrics') or {}).get('verification') or r.get('error')}")
        shown = ", ".join(f"{r.get('status')} verified={r.get('verified')}" for r in runs)
        return Outcome("ok", f"{took:.1f} s, exit {ran.returncode}: {shown}")

    return run


def _json(make: Callable[[], Any]) -> Callable[[Path], None]:
    return lambda path: path.write_text(json.dumps(make()), encoding="utf-8")


def _text(make: Callable[[], str]) -> Callable[[Path], None]:
    return lambda path: path.write_text(make(), encoding="utf-8")


def _bytes(make: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(make())


def _changed(base: Callable[[], dict[str, Any]], change: Callable[[dict[str, Any]], Any]) -> Callable[[], Any]:
    def make() -> Any:
        doc = copy.deepcopy(base())
        result = change(doc)
        return doc if result is None else result

    return make


def _set(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set ``doc[path...] = value`` (``value`` called with the old value when callable)."""

    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value

    return change


def _vllm(name: str, change: Callable[[dict[str, Any]], Any], expect: str = "refused", verified: bool = True) -> Case:
    return Case(SOURCE, f"vllm-{name}", _import(_json(_changed(vllm_doc, change)), expect=expect, verified=verified))


def _guidellm(name: str, change: Callable[[dict[str, Any]], Any], expect: str = "refused", verified: bool = True) -> Case:
    return Case(SOURCE, f"guidellm-{name}", _import(_json(_changed(guidellm_doc, change)), expect=expect,
                                                    verified=verified))


def _raw(name: str, write: Callable[[Path], None], expect: str = "refused") -> Case:
    return Case(SOURCE, name, _import(write, expect=expect))


def _sparse(size: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with open(path, "wb") as fh:
            fh.write(b"{")
            fh.truncate(size)

    return write


def _with_text(base: Callable[[], dict[str, Any]], old: str, new: str) -> Callable[[Path], None]:
    """The base file's JSON text with ``old`` (first occurrence) replaced: for what json.dumps cannot write."""
    return _text(lambda: json.dumps(base()).replace(old, new, 1))


REQ = ("benchmarks", 0, "requests", "successful", 0)
TIMINGS = (*REQ, "info", "timings")
DEEP = 100_000


def _each_request(change: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    """Change every successful request of the first benchmark of a guidellm report."""

    def apply(doc: dict[str, Any]) -> None:
        for req in doc["benchmarks"][0]["requests"]["successful"]:
            change(req)

    return apply


def _filler(n: int) -> dict[str, Any]:
    return {f"extra_figure_{i}": float(i) for i in range(n)}


CASES: list[Case] = [
    # the file boundary: bytes, nesting, objects held, strict JSON
    _raw("a-1-GB-file", _sparse(1 << 30)),
    _raw("60-MB-of-empty-lists", _text(lambda: "[" + "[]," * 20_000_000 + "[]]")),
    _raw("60-MB-of-empty-objects-in-a-figure", _with_text(vllm_doc, '"backend": "vllm"',
                                                          '"backend": [' + "{}," * 20_000_000 + "{}]")),
    _raw("lists-nested-100000-deep", _text(lambda: "[" * DEEP + "]" * DEEP)),
    _raw("objects-nested-100000-deep", _text(lambda: '{"a": ' * DEEP + "1" + "}" * DEEP)),
    _raw("a-figure-nested-65-deep", _with_text(vllm_doc, '"backend": "vllm"', '"backend": ' + "[" * 65 + "]" * 65)),
    _raw("not-UTF-8", _bytes(lambda: b'{"duration": "\xff\xfe"}')),
    _raw("an-empty-file", _text(lambda: "")),
    _raw("a-byte-order-mark", _bytes(lambda: b"\xef\xbb\xbf" + json.dumps(vllm_doc()).encode())),
    _raw("a-JSON-list", _text(lambda: "[1, 2, 3]")),
    _raw("a-JSON-string", _text(lambda: '"vllm"')),
    _raw("vllm-duration-NaN", _with_text(vllm_doc, '"duration": ', '"duration": NaN, "x": ')),
    _raw("vllm-a-ttft-Infinity", _with_text(vllm_doc, '"ttfts": [', '"ttfts": [Infinity, ')),
    _raw("vllm-an-itl-1e999", _with_text(vllm_doc, '"itls": [[', '"itls": [[1e999, ')),
    _raw("vllm-output_lens-twice-the-second-a-lie", _with_text(
        vllm_doc, '"output_lens": ', '"output_lens": ' + json.dumps([10**9] * N) + ', "output_lens": ')),
    _raw("vllm-a-5000-digit-output_len", _with_text(vllm_doc, '"output_lens": [', '"output_lens": [' + "9" * 5000 + ", ")),
    _raw("guidellm-output_tokens-twice", _with_text(guidellm_doc, '"output_tokens": 32',
                                                   '"output_tokens": 32, "output_tokens": 1000000000')),
    # vLLM: typed, bounded values
    _vllm("output_lens-an-object", _set("output_lens", value={"0": 32})),
    _vllm("an-output_len-a-string", _set("output_lens", 3, value="32")),
    _vllm("an-output_len-negative", _set("output_lens", 3, value=-32)),
    _vllm("an-output_len-fractional", _set("output_lens", 3, value=32.5)),
    _vllm("an-output_len-true", _set("output_lens", 3, value=True)),
    _vllm("an-input_len-negative", _set("input_lens", 3, value=-100)),
    _vllm("an-itl-a-string", _set("itls", 3, 0, value="0.02")),
    _vllm("an-itl-negative", _set("itls", 3, 0, value=-0.02)),
    _vllm("itls-a-number", _set("itls", 3, value=0.02)),
    _vllm("a-ttft-negative", _set("ttfts", 3, value=-1.0)),
    _vllm("a-ttft-an-object", _set("ttfts", 3, value={"s": 1})),
    _vllm("a-latency-shorter-than-its-ttft", _set("latencies", 3, value=0.01)),
    _vllm("duration-0", _set("duration", value=0)),
    _vllm("duration-negative", _set("duration", value=-5.0)),
    _vllm("duration-a-string", _set("duration", value="long")),
    _vllm("duration-1e300", _set("duration", value=1e300)),
    _vllm("a-start_time-a-string", _set("start_times", 3, value="now")),
    _vllm("a-start_time-1e300", _set("start_times", 3, value=1e300)),
    _vllm("date-garbage", _set("date", value="yesterday")),
    _vllm("date-a-list", _set("date", value=[2026, 1, 1])),
    _vllm("request_rate-a-word", _set("request_rate", value="fast")),
    _vllm("request_rate-negative", _set("request_rate", value=-2.0)),
    _vllm("max_concurrency-negative", _set("max_concurrency", value=-3)),
    _vllm("a-queue_time-negative", _set("queue_times", 3, value=-1.0)),
    _vllm("a-figure-mean_ttft_ms-negative", _set("mean_ttft_ms", value=-5.0)),
    _vllm("a-figure-completed-negative", _set("completed", value=-40)),
    _vllm("2000-more-figures", lambda d: d.update(_filler(2000)), expect="file"),
    _vllm("a-figure-with-a-500-character-key", lambda d: d.update({"k" * 500: 1.0}), expect="file"),
    _vllm("model_id-of-a-million-characters", _set("model_id", value="m" * 1_000_000), expect="file"),
    _vllm("errors-objects-and-numbers", lambda d: d["errors"].__setitem__(3, {"code": 500}) or
          d["errors"].__setitem__(5, 7), expect="file"),
    # vLLM: token counts against the token events the file timed
    _vllm("an-output_len-of-1e9-against-31-itls", _set("output_lens", 3, value=10**9)),
    _vllm("every-output_len-1000x", _set("output_lens", value=[TOKENS * 1000] * N)),
    _vllm("an-output_len-of-1e7-against-31-itls", _set("output_lens", 3, value=10**7)),
    _vllm("every-output_len-17x-just-past-the-bound", _set("output_lens", value=[TOKENS * 17] * N)),
    _vllm("an-output_len-under-its-itls", _set("output_lens", 3, value=TOKENS // 2)),
    _vllm("10-million-itls-in-one-request", lambda d: d["itls"].__setitem__(0, [0] * 10_000_000) or
          d["output_lens"].__setitem__(0, 10_000_001)),
    # guidellm: typed, bounded values
    _guidellm("output_tokens-1e9-against-32-token-iterations", _set(*REQ, "output_tokens", value=10**9)),
    _guidellm("output_tokens-negative", _set(*REQ, "output_tokens", value=-32)),
    _guidellm("output_metrics-total-negative", lambda d: d["benchmarks"][0]["requests"]["successful"][0].update(
        {"output_tokens": None, "output_metrics": {"total_tokens": -5}})),
    _guidellm("token_iterations-1e10", _each_request(lambda r: r["info"]["timings"].update(token_iterations=10**10) or
                                                     r.update(output_tokens=10**10))),
    _guidellm("token_iterations-5e6-in-every-request", _each_request(
        lambda r: r["info"]["timings"].update(token_iterations=5_000_000) or r.update(output_tokens=5_000_000))),
    _guidellm("token_iterations-above-output_tokens", _set(*TIMINGS, "token_iterations", value=TOKENS * 2)),
    _guidellm("token_iterations-a-string", _set(*TIMINGS, "token_iterations", value="many")),
    _guidellm("request_start-a-string", _set(*TIMINGS, "request_start", value="now")),
    _guidellm("request_start-1e15", _set(*TIMINGS, "request_start", value=1e15)),
    _guidellm("request_end-before-request_start", _set(*TIMINGS, "request_end", value=START - 100)),
    _guidellm("last-token-before-first", _set(*TIMINGS, "last_token_iteration", value=START - 100)),
    _guidellm("a-benchmark-spanning-a-month", _set("benchmarks", 0, "end_time", value=START + 3e6)),
    _guidellm("strategy-streams-a-string", _set("benchmarks", 0, "config", "strategy", "streams", value="four")),
    _guidellm("strategy-streams-negative", _set("benchmarks", 0, "config", "strategy", "streams", value=-4)),
    _guidellm("strategy-a-list", _set("benchmarks", 0, "config", "strategy", value=[1])),
    _guidellm("successful-requests-an-object", _set("benchmarks", 0, "requests", "successful", value={"r": 1})),
    _guidellm("a-request-a-number", _set("benchmarks", 0, "requests", "successful", 0, value=7)),
    _guidellm("a-request-info-a-list", _set(*REQ, "info", value=[1, 2])),
    _guidellm("a-benchmark-a-number", _set("benchmarks", 0, value=5)),
    _guidellm("successful_requests-a-string", _set("benchmarks", 0, "scheduler_state", "successful_requests", value="x"),
              expect="file"),
    _guidellm("target-an-unbalanced-IPv6-URL", _set("args", "target", value="http://[::1"), expect="file"),
    _guidellm("no-token_iterations", _each_request(lambda r: r["info"]["timings"].pop("token_iterations")),
              expect="file", verified=False),
    _guidellm("errored-requests-with-odd-errors", lambda d: d["benchmarks"][0]["requests"].update(
        errored=[{"info": {"timings": {"request_start": START + 1, "request_end": START + 2}, "error": {"x": [1]}}}]),
              expect="file"),
    # honest files as the tools write them: imported and verified
    Case(SOURCE, "vllm-honest", _import(_json(vllm_doc), expect="file")),
    Case(SOURCE, "vllm-honest-chat-role-chunk-timed", _import(_json(lambda: vllm_doc(role_chunk=True)), expect="file")),
    Case(SOURCE, "vllm-honest-4-tokens-a-chunk", _import(_json(lambda: vllm_doc(per_chunk=4)), expect="file")),
    Case(SOURCE, "guidellm-honest", _import(_json(guidellm_doc), expect="file")),
]
