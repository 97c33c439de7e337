"""Other tools' serving-benchmark results as request records on a wall-clock timeline (``sitebench import``).

vLLM ``bench serve --save-result`` (one JSON object per run, ``vllm/benchmarks/serve.py``): per request
``start_times`` (``time.perf_counter()`` when it was sent, after the concurrency slot), ``ttfts``, ``itls``
(gaps between successive token chunks), ``latencies`` (to the last chunk), ``input_lens``,
``output_lens`` (the server's usage, 0 for a failure), ``errors`` ("" when it succeeded), optionally
``queue_times``; and ``date`` (``%Y%m%d-%H%M%S``, the client's local time, written just after the
benchmark ended: whole seconds), ``duration``, ``model_id``, ``backend``, ``request_rate`` (``"inf"`` or
req/s), ``burstiness``, ``max_concurrency`` and vLLM's figures (``mean_ttft_ms``...). Token events are
rebuilt as ``start + ttft`` then each ITL after the other. The perf_counter clock is tied to the wall
clock by ``date``: the benchmark's end (``min(start_times) + duration``) is taken at ``date`` + 0.5 s,
so the timeline is known to +-0.5 s (plus the moment of the save); ``--start`` gives the exact
wall-clock start instead. A file without ``start_times`` (vLLM before they were saved) has no
timeline: the whole benchmark, ramp and drain included, becomes the window (refused for sizing).

guidellm ``benchmark --output-path report.json`` (``GenerativeBenchmarksReport``): ``benchmarks``, each
with ``config.strategy`` (``type_`` ``synchronous``, ``concurrent`` with ``streams``, ``throughput`` with
``max_concurrency``, ``constant`` or ``poisson`` with ``rate``) and ``requests.successful`` /
``errored`` / ``incomplete``, each request with ``info.timings`` in Unix seconds (``request_start``,
``first_token_iteration``, ``last_token_iteration``, ``token_iterations``, ``request_end``) and its
``prompt_tokens`` / ``output_tokens`` (else ``input_metrics`` / ``output_metrics.total_tokens``). Token
events are spread evenly between the first and last token iteration, as guidellm itself does. A
report that kept only a sample of the requests is refused: its token counts would be partial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from typing import Any

import numpy as np

from bench.errors import UsageError
from bench.serve.records import RequestRecord

VLLM_LISTS = ("input_lens", "output_lens", "ttfts", "itls", "latencies", "errors")
PER_REQUEST = (*VLLM_LISTS, "start_times", "queue_times", "generated_texts")


@dataclass
class ImportedPoint:
    """One load point of another tool's result, its requests on the wall clock (Unix seconds)."""

    tool: str
    model: str
    records: list[RequestRecord]
    started: float
    finished: float
    rate: float = math.inf
    max_concurrency: int | None = None
    closed_target: int | None = None
    base_url: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    timeline: bool = True
    notes: list[str] = field(default_factory=list)


def detect(doc: Any, path: str) -> str:
    """``vllm`` or ``guidellm``; UsageError for anything else."""
    if isinstance(doc, dict) and isinstance(doc.get("benchmarks"), list):
        return "guidellm"
    if isinstance(doc, dict) and all(k in doc for k in ("duration", "output_lens", "ttfts")):
        return "vllm"
    raise UsageError(f"{path}: neither a vLLM bench serve result (duration, output_lens, ttfts...) "
                     "nor a guidellm report (benchmarks)")


def _list(doc: dict[str, Any], key: str, n: int, path: str) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list) or len(value) != n:
        raise UsageError(f"{path}: {key} must be a list of {n} values (one per request)")
    return value


def _num(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"{what}: expected a number, got {value!r}"[:300])
    return float(value)


def parse_start(text: str) -> float:
    """Unix seconds from ``--start`` (Unix seconds, or ISO 8601; without a zone: local time)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise UsageError(f"--start {text}: expected Unix seconds or an ISO 8601 time") from None


def vllm(doc: dict[str, Any], path: str, start: float | None = None) -> list[ImportedPoint]:
    """The point of a vLLM ``bench serve`` result (``start``: the benchmark's wall-clock start, if known)."""
    lens = doc.get("output_lens")
    if not isinstance(lens, list) or not lens:
        raise UsageError(f"{path}: output_lens must be a non-empty list (one value per request)")
    n = len(lens)
    lists = {k: _list(doc, k, n, path) for k in VLLM_LISTS}
    duration = _num(doc.get("duration"), f"{path}: duration")
    starts = doc.get("start_times")
    timeline = isinstance(starts, list) and len(starts) == n
    notes = []
    if isinstance(starts, list) and timeline:
        sent = [_num(t, f"{path}: start_times") for t in starts]
        t0 = min(sent)
        if start is None:
            try:
                end = datetime.strptime(str(doc.get("date")), "%Y%m%d-%H%M%S").timestamp() + 0.5
            except ValueError:
                raise UsageError(f"{path}: date {doc.get('date')!r} is not %Y%m%d-%H%M%S: pass --start") from None
            start = end - duration
            notes.append("wall clock from the file's date (whole seconds, the client's local time): +-0.5 s; "
                         "--start gives the exact start")
        shift = start - t0
    else:
        start, shift, sent = start if start is not None else 0.0, 0.0, [0.0] * n
        notes.append("no start_times in the file: no timeline, the whole benchmark is the window")
    queues = doc.get("queue_times") if isinstance(doc.get("queue_times"), list) else None
    records = []
    for i in range(n):
        rec = RequestRecord(i)
        rec.dispatched = sent[i] + shift if timeline else start
        rec.arrival = rec.dispatched - (float(queues[i]) if queues and len(queues) == n else 0.0)
        rec.input_tokens = int(lists["input_lens"][i] or 0)
        error = lists["errors"][i]
        if error:
            rec.fail("error", str(error)[:500], rec.dispatched)
            records.append(rec)
            continue
        gaps = [_num(x, f"{path}: itls[{i}]") for x in (lists["itls"][i] or [])]
        first = rec.dispatched + _num(lists["ttfts"][i], f"{path}: ttfts[{i}]")
        rec.token_times = list(accumulate(gaps, initial=first))
        rec.ok, rec.end = True, rec.dispatched + _num(lists["latencies"][i], f"{path}: latencies[{i}]")
        rec.output_tokens, rec.token_source = int(lists["output_lens"][i] or 0), "vllm"
        records.append(rec)
    rate = math.inf if str(doc.get("request_rate", "inf")) == "inf" else _num(doc.get("request_rate"), "request_rate")
    cap = doc.get("max_concurrency") if isinstance(doc.get("max_concurrency"), int) else None
    figures = {k: v for k, v in doc.items() if k not in PER_REQUEST and (v is None or isinstance(v, (bool, int, str))
                                                                          or (isinstance(v, float) and math.isfinite(v)))}
    params = {"model": doc.get("model_id"), "backend": doc.get("backend"), "num_prompts": n,
              "request_rate": "inf" if math.isinf(rate) else rate, "burstiness": doc.get("burstiness"),
              "max_concurrency": cap, "label": doc.get("label")}
    return [ImportedPoint("vllm", str(doc.get("model_id") or "unknown"), records, start, start + duration, rate, cap,
                          cap if math.isinf(rate) else None, None, params, figures, timeline, notes)]


def _tokens(req: dict[str, Any], key: str, metrics: str) -> int | None:
    value = req.get(key)
    if value is None and isinstance(req.get(metrics), dict):
        value = req[metrics].get("total_tokens")
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _guidellm_record(i: int, req: dict[str, Any], status: str) -> RequestRecord:
    t = (req.get("info") or {}).get("timings") or {}
    rec = RequestRecord(i)
    rec.dispatched = float(t.get("request_start") or t.get("resolve_start") or 0.0)
    rec.arrival = float(t.get("queued") or rec.dispatched)
    rec.input_tokens = _tokens(req, "prompt_tokens", "input_metrics")
    end = float(t.get("request_end") or t.get("resolve_end") or rec.dispatched)
    if status != "successful":
        error = (req.get("info") or {}).get("error") or status
        rec.fail(status, str(error)[:500], end)
        return rec
    first, last, n = t.get("first_token_iteration"), t.get("last_token_iteration"), int(t.get("token_iterations") or 0)
    if first is not None and last is not None and n > 1:
        rec.token_times = [float(x) for x in np.linspace(float(first), float(last), n)]
    else:
        rec.token_times = [float(last if last is not None else end)]
    rec.ok, rec.end = True, end
    rec.output_tokens, rec.token_source = _tokens(req, "output_tokens", "output_metrics"), "guidellm"
    return rec


def _strategy(s: dict[str, Any]) -> tuple[float, int | None, int | None, str]:
    kind = str(s.get("type_", "?"))
    if kind == "synchronous":
        return math.inf, 1, 1, kind
    if kind == "concurrent":
        return math.inf, int(s["streams"]), int(s["streams"]), f"concurrent@{s['streams']}"
    if kind in ("constant", "poisson"):
        return float(s["rate"]), None, None, f"{kind}@{s['rate']}"
    cap = s.get("max_concurrency")
    return math.inf, cap, None, kind  # throughput: everything at once, the cap only if given


def guidellm(doc: dict[str, Any], path: str) -> list[ImportedPoint]:
    """One point per benchmark of a guidellm report."""
    args: dict[str, Any] = doc["args"] if isinstance(doc.get("args"), dict) else {}
    out = []
    for b, bench in enumerate(doc["benchmarks"]):
        where = f"{path}: benchmarks[{b}]"
        if not isinstance(bench, dict) or not isinstance(bench.get("requests"), dict):
            raise UsageError(f"{where}: no requests")
        try:
            rate, cap, closed, label = _strategy(bench["config"]["strategy"])
        except (KeyError, TypeError, ValueError):
            raise UsageError(f"{where}: config.strategy is not a guidellm scheduling strategy") from None
        groups = [(status, bench["requests"].get(status) or []) for status in ("successful", "errored", "incomplete")]
        state: dict[str, Any] = bench["scheduler_state"] if isinstance(bench.get("scheduler_state"), dict) else {}
        kept, ran = len(groups[0][1]), state.get("successful_requests")
        if isinstance(ran, int) and ran > kept:
            raise UsageError(f"{where}: the report keeps {kept} of {ran} successful requests (a sample): "
                             "token counts would be partial; rerun guidellm keeping every request")
        records = [_guidellm_record(i, req, status) for status, reqs in groups for i, req in enumerate(reqs)]
        records = [r for r in records if r.dispatched > 0]
        if not records:
            raise UsageError(f"{where}: no request with timings")
        for i, rec in enumerate(sorted(records, key=lambda r: r.dispatched)):
            rec.index = i
        started = min([r.dispatched for r in records] + [float(bench.get("start_time") or math.inf)])
        finished = max([r.end or r.dispatched for r in records] + [float(bench.get("end_time") or 0.0)])
        model = str(args.get("model") or (bench["config"].get("requests") or {}).get("model") or "unknown")
        params = {"model": model, "strategy": label, "num_prompts": len(records),
                  "request_rate": "inf" if math.isinf(rate) else rate, "max_concurrency": cap}
        out.append(ImportedPoint("guidellm", model, sorted(records, key=lambda r: r.index), started, finished, rate,
                                 cap, closed, args.get("target"), params, {}))
    return out
