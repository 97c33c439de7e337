"""A serve measurement as tables (rich) and as JSON with vLLM's saved-result keys.

JSON keys are vLLM ``bench serve``'s where the meaning is the same (``completed``,
``request_throughput``, ``mean_ttft_ms``, ``p99_itl_ms``, ``input_lens``, ``ttfts``, ``errors``...;
per-request lists in dataset order, a failed request with 0 like vLLM), ML.ENERGY's for the
steady window (``steady_state_duration``, ``steady_state_energy`` in J,
``steady_state_energy_per_token`` in J per output token), and the rest under ``sitebench``.
A figure that does not exist is ``null`` (vLLM writes 0 for an empty distribution).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from rich.table import Table

from bench.serve.measure.metrics import Distribution
from bench.serve.measure.outcome import ServeMeasurement

LATENCIES = (("ttft", "TTFT"), ("tpot", "TPOT"), ("itl", "ITL"), ("e2el", "E2E latency"))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _window(m: ServeMeasurement) -> dict[str, Any]:
    w = m.window
    t0 = m.load.started
    return {"start_s": None if w.start is None else w.start - t0, "end_s": None if w.end is None else w.end - t0,
            "duration_s": w.duration, "rule": w.rule, "output_tokens": w.output_tokens, "input_tokens": w.input_tokens,
            "total_tokens": w.total_tokens, "completed": w.completed, "failed": w.failed,
            "slices_s": [t - t0 for t in w.bounds], "slice_output_tokens": w.slice_tokens,
            "output_token_rate_slices": w.slice_rates, "cv": w.cv, "mean_concurrency": w.mean_concurrency,
            "target_concurrency": w.target_concurrency, "valid": w.valid, "reasons": w.reasons}


def _energy(m: ServeMeasurement) -> dict[str, Any] | None:
    e = m.energy
    if e is None:
        return None
    b = e.block
    return {"scope": b.scope, "scope_class": b.scope_class, "measured": b.measured, "avg_w": b.avg_w,
            "energy_j": b.energy_j, "j_per_output_token": e.j_per_output_token, "j_per_token": e.j_per_token,
            "valid_for_sizing": b.valid_for_sizing, "reasons": list(b.invalid_reasons), "quality": b.quality.to_json(),
            "meters": [vars(x) for x in e.meters]}


def vllm_json(m: ServeMeasurement) -> dict[str, Any]:
    """The measurement as one JSON object (see the module for the keys)."""
    mt, recs, s, srv = m.metrics, m.records, m.settings, m.setup.server
    doc: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S"),
        "backend": "openai-chat" if s.endpoint == "chat" else "openai",
        "model_id": srv.model, "tokenizer_id": s.tokenizer, "num_prompts": len(recs),
        "request_rate": "inf" if math.isinf(m.point.rate) else m.point.rate, "burstiness": s.burstiness,
        "max_concurrency": m.point.max_concurrency,
        "duration": mt.duration, "completed": mt.completed, "failed": mt.failed,
        "total_input_tokens": mt.total_input, "total_output_tokens": mt.total_output,
        "request_throughput": mt.request_throughput, "request_goodput": mt.request_goodput,
        "output_throughput": mt.output_throughput, "total_token_throughput": mt.total_token_throughput,
        "max_output_tokens_per_s": mt.max_output_tokens_per_s, "max_concurrent_requests": mt.max_concurrent_requests,
    }
    for key, _ in LATENCIES:
        dist: Distribution = getattr(mt, key)
        doc.update({f"mean_{key}_ms": dist.mean, f"median_{key}_ms": dist.median, f"std_{key}_ms": dist.std})
        doc.update({f"{p}_{key}_ms": v for p, v in dist.p.items()})
    doc.update({
        "input_lens": [r.input_tokens or 0 for r in recs],
        "output_lens": [r.output_tokens or 0 if r.ok else 0 for r in recs],
        "ttfts": [r.ttft or 0.0 if r.ok else 0.0 for r in recs],
        "itls": [r.itls if r.ok else [] for r in recs],
        "latencies": [r.latency or 0.0 if r.ok else 0.0 for r in recs],
        "start_times": [r.dispatched - m.load.started for r in recs],
        "errors": [r.error for r in recs],
        "generated_texts": [r.text for r in recs],
    })
    e = m.energy
    doc.update({"steady_state_duration": m.window.duration,
                "steady_state_energy": e.block.energy_j if e else None,
                "steady_state_energy_per_token": e.j_per_output_token if e else None})
    doc["sitebench"] = {
        "server": {"base_url": srv.base_url, "host": srv.host, "engine": srv.engine, "owned_by": srv.owned_by,
                   "root": srv.root, "max_model_len": srv.max_model_len, "server_header": srv.server_header,
                   "models": srv.models},
        "endpoint": s.endpoint, "dataset": m.setup.dataset, "seed": s.seed, "goodput_slo_ms": s.goodput,
        "token_source": mt.token_source, "failure_reasons": mt.failures,
        "queue_times": [r.dispatched - r.arrival for r in recs],
        "steady_window": _window(m), "energy": _energy(m), "warmup_failed": m.warmup_failed, "notes": m.notes,
    }
    return _clean(doc)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _num(value: float | None, fmt: str = ".4g") -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, fmt)


def summary_table(m: ServeMeasurement) -> Table:
    """Requests, throughput, goodput, the steady window and energy per token of one point."""
    mt, w, e = m.metrics, m.window, m.energy
    table = Table(title=f"{m.setup.server.model} at {m.setup.server.host}: {m.point.label}", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    fails = ", ".join(f"{k} x{n}" for k, n in mt.failures.items())
    rows = [
        ("requests ok / failed", f"{mt.completed} / {mt.failed}" + (f" ({fails})" if fails else "")),
        ("duration", f"{mt.duration:.2f} s"),
        ("input / output tokens", f"{mt.total_input} / {mt.total_output} ({mt.token_source or '-'})"),
        ("request throughput", f"{_num(mt.request_throughput)} req/s"),
        ("output token throughput", f"{_num(mt.output_throughput)} tok/s"),
        ("total token throughput", f"{_num(mt.total_token_throughput)} tok/s"),
        ("peak output tok/s, peak concurrency", f"{_num(mt.max_output_tokens_per_s)}, {mt.max_concurrent_requests}"),
    ]
    if mt.request_goodput is not None:
        rows.append(("request goodput", f"{_num(mt.request_goodput)} req/s"))
    rows.append(("steady window", f"{w.duration:.2f} s, {w.output_tokens:.0f} output tokens"
                 + ("" if w.valid else " [red]not steady[/red]")))
    if e is not None:
        verdict = "" if e.block.valid_for_sizing else " [red]refused for sizing[/red]"
        rows.append((f"J / output token ({e.block.scope})", _num(e.j_per_output_token) + verdict))
        rows.append((f"J / token, in+out ({e.block.scope})", _num(e.j_per_token)))
        rows.append(("mean power in window", f"{_num(e.block.avg_w)} W"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def latency_table(m: ServeMeasurement) -> Table:
    """TTFT, TPOT, ITL and E2E latency: mean, median, p90, p99 in ms."""
    table = Table(title="latency (ms)")
    for col in ("metric", "mean", "median", "p90", "p99", "n"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for key, label in LATENCIES:
        d: Distribution = getattr(m.metrics, key)
        table.add_row(label, _ms(d.mean), _ms(d.median), _ms(d.p["p90"]), _ms(d.p["p99"]), str(d.count))
    return table


def sweep_table(ms: list[ServeMeasurement]) -> Table:
    """One row per load point."""
    table = Table(title="sweep")
    for col in ("point", "ok/failed", "out tok/s", "TTFT p50", "TPOT p50", "ITL p99", "J/out tok", "scope", "sizing"):
        table.add_column(col, justify="left" if col in ("point", "scope") else "right")
    for m in ms:
        mt, e = m.metrics, m.energy
        table.add_row(m.point.label, f"{mt.completed}/{mt.failed}", _num(mt.output_throughput), _ms(mt.ttft.median),
                      _ms(mt.tpot.median), _ms(mt.itl.p["p99"]), _num(e.j_per_output_token if e else None),
                      e.block.scope or "-" if e else "-", ("ok" if e.block.valid_for_sizing else "refused") if e else "-")
    return table


def notes(m: ServeMeasurement) -> list[str]:
    """Lines a reader must see: why the window or energy was refused, failures, warm-up trouble."""
    out = [*m.notes, *(f"steady window: {r}" for r in m.window.reasons)]
    if m.energy is not None:
        out += [r for r in m.energy.block.invalid_reasons if not r.startswith("steady window:")]
        out += [f for f in m.energy.block.flags if ": refused: " not in f]
    out += [f"{r.failure}: {r.error}" for r in m.records if not r.ok][:5]
    return list(dict.fromkeys(out))
