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

Every value is read typed and bounded (a file is as hostile as a server): times finite and on a
wall clock between 1970 and 3000, spans within a record's (:data:`bench.record.bounds.MAX_SPAN_S`),
latencies and gaps from 0, token counts whole numbers from 0; a figure kept from the file under a
key that names a count, a rate or a latency is not negative. A request's token count must agree
with the token events the file timed (:mod:`bench.serve.protocol.counts`): vLLM's ``output_lens[i]`` with
its TTFT and ``itls[i]`` (``len(itls[i]) + 1`` chunks, of which the chat role chunk and a closing
chunk may carry no token), guidellm's ``output_tokens`` with ``token_iterations``. A file that
breaks a bound is refused in one line naming the value (:class:`~bench.errors.UsageError`); a
guidellm request without ``token_iterations`` cannot be checked, and its run is not ``verified``.
The token events rebuilt from one file are at most :data:`MAX_TOKEN_EVENTS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from typing import Any

import numpy as np

from bench.errors import UsageError
from bench.record.bounds import MAX_ITEMS, MAX_SPAN_S, NAME_LEN, counts_something
from bench.serve.protocol.counts import IMPORT_SLACK, MAX_REQUEST_TOKENS, MAX_TOKENS_PER_EVENT, disagreement
from bench.serve.protocol.records import RequestRecord

VLLM_LISTS = ("input_lens", "output_lens", "ttfts", "itls", "latencies", "errors")
PER_REQUEST = (*VLLM_LISTS, "start_times", "queue_times", "generated_texts")
#: Token events one imported file may rebuild (each a float in memory), all its points together.
MAX_TOKEN_EVENTS = 10_000_000
#: Wall-clock times (Unix s) an import accepts: 1970 to the year 3000.
MAX_UNIX_S = 32_503_680_000.0
#: A vLLM perf_counter time (s since an arbitrary point) an import accepts.
MAX_CLOCK_S = 1e12
#: The most figures of the file kept in a run's metrics (the record holds at most MAX_ITEMS).
MAX_FIGURES = MAX_ITEMS // 2
#: The largest concurrency or stream count believed.
MAX_CONCURRENCY = 1_000_000


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
    #: why the token counts cannot be checked against the file's token events (the run is then not verified)
    unverified: list[str] = field(default_factory=list)


@dataclass
class Budget:
    """Token events left to rebuild from one file (:data:`MAX_TOKEN_EVENTS`)."""

    path: str
    left: int = MAX_TOKEN_EVENTS

    def take(self, events: int) -> None:
        self.left -= events
        if self.left < 0:
            raise UsageError(f"{self.path}: more than {MAX_TOKEN_EVENTS} token events in the file: more than an import "
                             "holds in memory (import the points separately)")


def detect(doc: Any, path: str) -> str:
    """``vllm`` or ``guidellm``; UsageError for anything else."""
    if isinstance(doc, dict) and isinstance(doc.get("benchmarks"), list):
        return "guidellm"
    if isinstance(doc, dict) and all(k in doc for k in ("duration", "output_lens", "ttfts")):
        return "vllm"
    raise UsageError(f"{path}: neither a vLLM bench serve result (duration, output_lens, ttfts...) "
                     "nor a guidellm report (benchmarks)")


# --- typed, bounded values ----------------------------------------------------------------------------------

def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _num(value: Any, what: str, *, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        bounds = "" if math.isinf(low) and math.isinf(high) else f" from {low:g}" + ("" if math.isinf(high) else f" to {high:g}")
        raise UsageError(f"{what}: expected a finite number{bounds}, got {_shown(value)}")
    return float(value)


def _count(value: Any, what: str, high: int = MAX_REQUEST_TOKENS) -> int:
    """A whole number from 0 to ``high`` (an integral float is taken)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise UsageError(f"{what}: expected a count (a whole number from 0 to {high}), got {_shown(value)}")
    return value


def _maybe(value: Any, read: Any, what: str) -> Any:
    return None if value is None else read(value, what)


def _obj(value: Any, what: str, default: dict[str, Any] | None = None) -> dict[str, Any]:
    if value is None and default is not None:
        return default
    if not isinstance(value, dict):
        raise UsageError(f"{what}: expected an object, got {_shown(value)}")
    return value


def _text(value: Any, limit: int = NAME_LEN) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _list(doc: dict[str, Any], key: str, n: int, path: str) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list) or len(value) != n:
        raise UsageError(f"{path}: {key} must be a list of {n} values (one per request)")
    return value


def _wall(value: Any, what: str) -> float:
    return _num(value, what, low=0.0, high=MAX_UNIX_S)


def _figures(doc: dict[str, Any], path: str, skip: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """The file's own scalar figures (a count, rate or latency never negative), at most :data:`MAX_FIGURES`."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key in skip or not key or len(key) > NAME_LEN:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            continue
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            continue
        if value is not None and not isinstance(value, (bool, int, float, str)):
            continue
        if counts_something(key) and isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise UsageError(f"{path}: {key} is {_shown(value)}: a count, a rate or a latency is never negative")
        out[key] = value[:2000] if isinstance(value, str) else value
    notes = []
    if len(out) > MAX_FIGURES:
        notes.append(f"{len(out)} figures in the file: the first {MAX_FIGURES} are kept")
        out = dict(list(out.items())[:MAX_FIGURES])
    return out, notes


def parse_start(text: str) -> float:
    """Unix seconds from ``--start`` (Unix seconds, or ISO 8601; without a zone: local time)."""
    try:
        value = float(text)
    except ValueError:
        try:
            value = datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"--start {text}: expected Unix seconds or an ISO 8601 time") from None
    if not 0 <= value <= MAX_UNIX_S:
        raise UsageError(f"--start {text}: not a time between 1970 and the year 3000")
    return value


# --- vLLM ---------------------------------------------------------------------------------------------------

def _vllm_date(doc: dict[str, Any], path: str) -> float:
    date = doc.get("date")
    try:
        return datetime.strptime(str(date)[:40], "%Y%m%d-%H%M%S").timestamp() + 0.5
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"{path}: date {_shown(date)} is not %Y%m%d-%H%M%S: pass --start") from None


def vllm(doc: dict[str, Any], path: str, start: float | None = None, *, per_event: int = MAX_TOKENS_PER_EVENT,
         budget: Budget | None = None) -> list[ImportedPoint]:
    """The point of a vLLM ``bench serve`` result (``start``: the benchmark's wall-clock start, if known)."""
    budget = budget or Budget(path)
    lens = doc.get("output_lens")
    if not isinstance(lens, list) or not lens:
        raise UsageError(f"{path}: output_lens must be a non-empty list (one value per request)")
    n = len(lens)
    lists = {k: _list(doc, k, n, path) for k in VLLM_LISTS}
    duration = _num(doc.get("duration"), f"{path}: duration", low=0.0, high=MAX_SPAN_S)
    if duration <= 0:
        raise UsageError(f"{path}: duration must be positive, got {duration:g}")
    starts = doc.get("start_times")
    timeline = isinstance(starts, list) and len(starts) == n
    notes = []
    if isinstance(starts, list) and timeline:
        sent = [_num(t, f"{path}: start_times[{i}]", low=-MAX_CLOCK_S, high=MAX_CLOCK_S) for i, t in enumerate(starts)]
        t0 = min(sent)
        if max(sent) - t0 > MAX_SPAN_S:
            raise UsageError(f"{path}: start_times span {max(sent) - t0:.3g} s, more than a record spans ({MAX_SPAN_S:g} s)")
        if start is None:
            start = _vllm_date(doc, path) - duration
            notes.append("wall clock from the file's date (whole seconds, the client's local time): +-0.5 s; "
                         "--start gives the exact start")
        shift = start - t0
    else:
        start, shift, sent = start if start is not None else 0.0, 0.0, [0.0] * n
        notes.append("no start_times in the file: no timeline, the whole benchmark is the window")
    _wall(start, f"{path}: the benchmark's start")
    queues_raw = doc.get("queue_times")
    queues = [_num(q, f"{path}: queue_times[{i}]", low=0.0, high=MAX_SPAN_S) for i, q in enumerate(queues_raw)] \
        if isinstance(queues_raw, list) and len(queues_raw) == n else None
    records = []
    for i in range(n):
        rec = RequestRecord(i)
        rec.dispatched = sent[i] + shift if timeline else start
        rec.arrival = rec.dispatched - (queues[i] if queues else 0.0)
        rec.input_tokens = _maybe(lists["input_lens"][i], _count, f"{path}: input_lens[{i}]")
        error = lists["errors"][i]
        if error:
            rec.fail("error", str(error)[:500], rec.dispatched)
            records.append(rec)
            continue
        gaps_raw = lists["itls"][i]
        if gaps_raw is not None and not isinstance(gaps_raw, list):
            raise UsageError(f"{path}: itls[{i}]: expected a list of gaps, got {_shown(gaps_raw)}")
        budget.take(len(gaps_raw or []) + 1)
        gaps = [_num(x, f"{path}: itls[{i}][{k}]", low=0.0, high=MAX_SPAN_S) for k, x in enumerate(gaps_raw or [])]
        ttft = _num(lists["ttfts"][i], f"{path}: ttfts[{i}]", low=0.0, high=MAX_SPAN_S)
        latency = _num(lists["latencies"][i], f"{path}: latencies[{i}]", low=0.0, high=MAX_SPAN_S)
        if latency < ttft - 1e-6:
            raise UsageError(f"{path}: latencies[{i}] {latency:g} s is shorter than ttfts[{i}] {ttft:g} s")
        tokens = _count(lists["output_lens"][i], f"{path}: output_lens[{i}]")
        why = disagreement(tokens, len(gaps) + 1, slack=IMPORT_SLACK, per_event=per_event, what=f"output_lens[{i}]")
        if why is not None:
            raise UsageError(f"{path}: {why} (a first token and {len(gaps)} itls[{i}])")
        rec.token_times = list(accumulate(gaps, initial=rec.dispatched + ttft))
        rec.ok, rec.end = True, rec.dispatched + latency
        rec.output_tokens, rec.token_source = tokens, "vllm"
        records.append(rec)
    raw_rate = doc.get("request_rate", "inf")
    rate = math.inf if raw_rate == "inf" or raw_rate is None else _num(raw_rate, f"{path}: request_rate", low=0.0)
    if rate <= 0:
        raise UsageError(f"{path}: request_rate must be positive or \"inf\", got {_shown(raw_rate)}")
    cap = _maybe(doc.get("max_concurrency"), lambda v, w: _count(v, w, MAX_CONCURRENCY), f"{path}: max_concurrency") or None
    burst = _maybe(doc.get("burstiness"), lambda v, w: _num(v, w, low=0.0), f"{path}: burstiness")
    figures, more = _figures(doc, path, PER_REQUEST)
    params = {"model": _text(doc.get("model_id")), "backend": _text(doc.get("backend")), "num_prompts": n,
              "request_rate": "inf" if math.isinf(rate) else rate, "burstiness": burst,
              "max_concurrency": cap, "label": _text(doc.get("label"))}
    return [ImportedPoint("vllm", _text(doc.get("model_id")) or "unknown", records, start, start + duration, rate, cap,
                          cap if math.isinf(rate) else None, None, params, figures, timeline, notes + more)]


# --- guidellm -----------------------------------------------------------------------------------------------

def _tokens(req: dict[str, Any], key: str, metrics: str, what: str) -> int | None:
    value = req.get(key)
    if value is None and isinstance(req.get(metrics), dict):
        value = req[metrics].get("total_tokens")
    return _maybe(value, _count, f"{what}.{key}")


def _guidellm_record(i: int, req: Any, status: str, where: str, per_event: int, budget: Budget,
                     point_notes: list[str]) -> RequestRecord | None:
    """One request (None: it has no timings, so no place on the timeline)."""
    what = f"{where}.requests.{status}[{i}]"
    req = _obj(req, what)
    info = _obj(req.get("info"), f"{what}.info", {})
    t = _obj(info.get("timings"), f"{what}.info.timings", {})
    sent = t.get("request_start") or t.get("resolve_start")
    if not sent:
        return None
    rec = RequestRecord(i)
    rec.dispatched = _wall(sent, f"{what}.info.timings.request_start")
    queued = t.get("queued")
    rec.arrival = _wall(queued, f"{what}.info.timings.queued") if queued else rec.dispatched
    rec.input_tokens = _tokens(req, "prompt_tokens", "input_metrics", what)
    end_raw = t.get("request_end") or t.get("resolve_end")
    end = _wall(end_raw, f"{what}.info.timings.request_end") if end_raw else rec.dispatched
    if end < rec.dispatched:
        raise UsageError(f"{what}.info.timings: the request ends before it starts")
    if status != "successful":
        error = info.get("error") or status
        rec.fail(status, str(error)[:500], end)
        return rec
    first = _maybe(t.get("first_token_iteration"), _wall, f"{what}.info.timings.first_token_iteration")
    last = _maybe(t.get("last_token_iteration"), _wall, f"{what}.info.timings.last_token_iteration")
    n = _maybe(t.get("token_iterations"), _count, f"{what}.info.timings.token_iterations") or 0
    if first is not None and last is not None and last < first:
        raise UsageError(f"{what}.info.timings: the last token iteration comes before the first")
    tokens = _tokens(req, "output_tokens", "output_metrics", what)
    if tokens is not None and n:
        why = disagreement(tokens, n, slack=IMPORT_SLACK, per_event=per_event, what=f"{what}.output_tokens")
        if why is not None:
            raise UsageError(f"{why} (token_iterations {n})")
    elif tokens:
        point_notes.append("a successful request without token_iterations: its token count cannot be checked against "
                           "what was streamed")
    budget.take(max(n, 1))
    if first is not None and last is not None and n > 1:
        rec.token_times = [float(x) for x in np.linspace(first, last, n)]
    else:
        rec.token_times = [last if last is not None else end]
    rec.ok, rec.end = True, end
    rec.output_tokens, rec.token_source = tokens, "guidellm"
    return rec


def _strategy(s: Any) -> tuple[float, int | None, int | None, str]:
    if not isinstance(s, dict):
        raise ValueError
    kind = str(s.get("type_", "?"))[:40]
    if kind == "synchronous":
        return math.inf, 1, 1, kind
    if kind == "concurrent":
        streams = _count(s["streams"], "streams", MAX_CONCURRENCY)
        if streams < 1:
            raise ValueError
        return math.inf, streams, streams, f"concurrent@{streams}"
    if kind in ("constant", "poisson"):
        rate = _num(s["rate"], "rate", low=0.0)
        if rate <= 0:
            raise ValueError
        return rate, None, None, f"{kind}@{rate:g}"
    cap = _maybe(s.get("max_concurrency"), lambda v, w: _count(v, w, MAX_CONCURRENCY), "max_concurrency") or None
    return math.inf, cap, None, kind  # throughput: everything at once, the cap only if given


def guidellm(doc: dict[str, Any], path: str, *, per_event: int = MAX_TOKENS_PER_EVENT,
             budget: Budget | None = None) -> list[ImportedPoint]:
    """One point per benchmark of a guidellm report."""
    budget = budget or Budget(path)
    args: dict[str, Any] = doc["args"] if isinstance(doc.get("args"), dict) else {}
    out = []
    for b, bench in enumerate(doc["benchmarks"]):
        where = f"{path}: benchmarks[{b}]"
        if not isinstance(bench, dict) or not isinstance(bench.get("requests"), dict):
            raise UsageError(f"{where}: no requests")
        config: dict[str, Any] = bench["config"] if isinstance(bench.get("config"), dict) else {}
        try:
            rate, cap, closed, label = _strategy(config.get("strategy"))
        except (KeyError, TypeError, ValueError, UsageError):
            raise UsageError(f"{where}: config.strategy is not a guidellm scheduling strategy") from None
        groups = []
        for status in ("successful", "errored", "incomplete"):
            reqs = bench["requests"].get(status)
            if reqs is not None and not isinstance(reqs, list):
                raise UsageError(f"{where}.requests.{status}: expected a list of requests, got {_shown(reqs)}")
            groups.append((status, reqs or []))
        state: dict[str, Any] = bench["scheduler_state"] if isinstance(bench.get("scheduler_state"), dict) else {}
        kept, ran = len(groups[0][1]), state.get("successful_requests")
        if isinstance(ran, int) and not isinstance(ran, bool) and ran > kept:
            raise UsageError(f"{where}: the report keeps {kept} of {ran} successful requests (a sample): "
                             "token counts would be partial; rerun guidellm keeping every request")
        notes: list[str] = []
        made = [_guidellm_record(i, req, status, where, per_event, budget, notes)
                for status, reqs in groups for i, req in enumerate(reqs)]
        records = [r for r in made if r is not None]
        if not records:
            raise UsageError(f"{where}: no request with timings")
        for i, rec in enumerate(sorted(records, key=lambda r: r.dispatched)):
            rec.index = i
        bounds = [_wall(bench[k], f"{where}.{k}") for k in ("start_time", "end_time") if bench.get(k)]
        started = min([r.dispatched for r in records] + bounds[:1])
        finished = max([r.end or r.dispatched for r in records] + bounds[1:])
        if finished - started > MAX_SPAN_S:
            raise UsageError(f"{where}: the benchmark spans {finished - started:.3g} s, more than a record spans "
                             f"({MAX_SPAN_S:g} s)")
        requests_cfg: dict[str, Any] = config["requests"] if isinstance(config.get("requests"), dict) else {}
        model = _text(args.get("model")) or _text(requests_cfg.get("model")) or "unknown"
        params = {"model": model, "strategy": label, "num_prompts": len(records),
                  "request_rate": "inf" if math.isinf(rate) else rate, "max_concurrency": cap}
        unverified = sorted(set(notes))
        out.append(ImportedPoint("guidellm", model, sorted(records, key=lambda r: r.index), started, finished, rate,
                                 cap, closed, _text(args.get("target"), 2000), params, {}, notes=unverified,
                                 unverified=unverified))
    return out
