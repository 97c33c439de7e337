"""A finished load point as a ``sitebench.result/2`` run (workload ``serve``, unit ``token``).

Mapping (run field: what it holds):

- ``device``: ``endpoint:HOST[:PORT]``; ``hardware``: ``kind: endpoint``, ``model`` the served
  model, ``details`` the server's identity (engine, ``owned_by``, ``root``, ``max_model_len``,
  ``Server`` header, base URL, the models listed) and what the meters say they measure (DCGM's
  GPU model names, UUIDs and hosts); ``chips`` the GPUs the meters name. The file's ``system``
  is the host that ran the client (the endpoint's identity is here).
- ``params``: the load settings: model, endpoint, dataset, prompts, request rate (``"inf"`` or
  req/s), burstiness, max concurrency, seed, warm-up requests, goodput SLOs.
- the measured windows are the slices of the steady window (:mod:`bench.serve.measure.slices`): phases
  ``window-0`` ... ``window-N`` between the slice markers, each slice's units the output tokens
  whose token events fall in it, so ``throughput.rate`` = output tokens in the steady window /
  its span; ``power`` is the power layer's block over the same slices (refused for sizing, with
  the reasons, when the window was not steady or the point was interrupted), and
  ``efficiency.per_joule`` = output tokens / energy: MW per M tok/s = J per output token x PUE.
  Other phases: ``warmup``, ``ramp`` (the load filling up) and ``drain`` (the queue emptying).
- ``metrics``: vLLM's saved-result figures under vLLM's keys (``mean_ttft_ms``, ``p99_itl_ms``,
  ``request_throughput``, ``request_goodput``, ``completed``, ``failed``...), ML.ENERGY's
  ``steady_state_*`` keys, J per output and per (input + output) token, the token source,
  failures by reason (``failures.HTTP 429``...) and the steady window's verdict
  (``steady_valid``, ``steady_reasons``...): flat values only.
- ``verified``: the tokens were counted (server usage or a local tokenizer) and no request's
  count disagreed with what it streamed (:mod:`bench.serve.protocol.counts`: fewer tokens than token
  events, more than the cap asked or than batching explains): such a request fails (``token
  count``, its tokens counted nowhere), and a server caught once is not believed for the rest.
- ``status``: ``ok``; ``interrupted`` when a stop signal ended the point; ``failed`` when no
  request completed or the load had no steady window (no measured window: nothing to size).
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import pairwise
from typing import Any

from bench.measure.runrecord import RunHead, flat_metrics, measured_run
from bench.measure.soak import with_soak
from bench.record import Hardware, Phase, PowerBlock, Run, no_power, utc_now
from bench.record.run import Status
from bench.serve.measure.outcome import LoadPoint, ServeMeasurement, ServeSettings, Setup
from bench.serve.protocol.client import COUNT_FAILURE
from bench.serve.record.render import vllm_json

WORKLOAD = "serve"
UNIT = "token"
PER_REQUEST = ("input_lens", "output_lens", "ttfts", "itls", "latencies", "start_times", "errors", "generated_texts")


def _scalars(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v[:2000] if isinstance(v, str) else v) for k, v in values.items() if v is not None}


def hardware(setup: Setup, meters: list[Any] | None = None) -> Hardware:
    """The endpoint as the run's unit: the served model, the server's identity and the meters' hardware."""
    srv = setup.server
    details: dict[str, Any] = {
        "engine": srv.engine, "owned_by": srv.owned_by, "root": srv.root, "max_model_len": srv.max_model_len,
        "server_header": srv.server_header, "base_url": srv.base_url, "models": ", ".join(srv.models),
    }
    seen = [h for meter in meters or [] for h in getattr(meter, "hardware", []) if isinstance(h, dict)]
    names = Counter(h["modelName"] for h in seen if h.get("modelName"))
    if names:
        details["accelerators"] = ", ".join(f"{n}x {name}" if n > 1 else name for name, n in names.items())
    for key, label in (("UUID", "accelerator_uuids"), ("Hostname", "accelerator_hosts")):
        values = sorted({h[key] for h in seen if h.get(key)})
        if values:
            details[label] = ", ".join(values)
    uuids = {h.get("UUID") or h.get("device") for h in seen} - {None}
    return Hardware(kind="endpoint", model=srv.model[:200], details=_scalars(details),
                    chips=len(uuids) if uuids else None)


def params(setup: Setup, settings: ServeSettings, point: LoadPoint) -> dict[str, Any]:
    """The load settings of one point."""
    slo = ",".join(f"{k}:{v:g}" for k, v in settings.goodput.items())
    return _scalars({
        "model": setup.server.model, "endpoint": settings.endpoint, "dataset": settings.dataset,
        "num_prompts": len(setup.prompts), "request_rate": "inf" if math.isinf(point.rate) else point.rate,
        "burstiness": settings.burstiness, "max_concurrency": point.max_concurrency, "seed": settings.seed,
        "warmup": settings.warmup, "goodput": slo or None,
    })


def run_head(setup: Setup, settings: ServeSettings, point: LoadPoint, meters: list[Any] | None = None) -> RunHead:
    """What the run of one point is, before it is measured (the journal's ``run-start`` line)."""
    return RunHead(workload=WORKLOAD, device=f"endpoint:{setup.server.host}"[:200], unit=UNIT,
                   params=params(setup, settings, point), started=utc_now(), hardware=hardware(setup, meters))


def metrics(m: ServeMeasurement) -> dict[str, Any]:
    """The point's flat metrics (see the module)."""

    doc = vllm_json(m)
    extra = doc.pop("sitebench")
    out = {k: v for k, v in doc.items() if k not in PER_REQUEST}
    w, e = m.window, m.energy
    out.update({
        "j_per_output_token": e.j_per_output_token if e else None, "j_per_token": e.j_per_token if e else None,
        "token_source": m.metrics.token_source, "engine": m.setup.server.engine,
        "steady_valid": w.valid, "steady_reasons": "; ".join(w.reasons), "steady_rule": w.rule,
        "steady_start_s": None if w.start is None else w.start - m.timeline.start,
        "steady_end_s": None if w.end is None else w.end - m.timeline.start,
        "steady_output_tokens": w.output_tokens, "steady_input_tokens": w.input_tokens,
        "steady_completed": w.completed, "steady_failed": w.failed, "steady_cv": w.cv,
        "steady_mean_concurrency": w.mean_concurrency, "steady_target_concurrency": w.target_concurrency,
        "warmup_failed": m.warmup_failed,
    })
    out.update({f"failures.{reason}": n for reason, n in extra["failure_reasons"].items()})
    return out


def verification(m: ServeMeasurement) -> str | None:
    """Why the point's token counts cannot be trusted, or None (see the module)."""
    ok = [r for r in m.records if r.ok]
    if not ok:
        return "no request completed"
    refused = [r for r in m.records if r.failure == COUNT_FAILURE]
    if refused:
        r = refused[0]
        return (f"{len(refused)} request(s) had a token count that disagrees with what they streamed "
                f"(request {r.index}: {r.error})")[:2000]
    return None


def phases(m: ServeMeasurement) -> list[Phase]:
    """warmup, ramp, window-0 ... window-N, drain: seconds from the point's start."""
    line = m.timeline
    t0 = line.start

    def phase(name: str, a: float, b: float) -> Phase:
        return Phase(name=name, start=round(a - t0, 4), end=round(b - t0, 4))

    out = [phase("warmup", t0, line.warmup_end)] if line.warmup_end is not None else []
    if line.slices:
        first, last = line.slices[0][1], line.slices[-1][1]
        out.append(phase("ramp", line.warmup_end or t0, first))
        out += [phase(f"window-{i}", a, b) for i, ((_, a), (_, b)) in enumerate(pairwise(line.slices))]
        out.append(phase("drain", last, max(last, line.end)))
    return out


def to_run_record(m: ServeMeasurement, head: RunHead, no_power_reason: str = "no power meter") -> Run:
    """The run record of one measured point (see the module for the mapping)."""
    figures = metrics(m)
    bounds = [t for _, t in m.timeline.slices]
    status: Status = "interrupted" if m.interrupted else "ok"
    if m.metrics.completed == 0 or len(bounds) < 2 or not m.window.output_tokens:
        if m.interrupted:
            why = "interrupted (stop signal) " + ("before the steady window" if len(bounds) < 2
                                                  else "before a request completed in the steady window")
        else:
            why = ("no request completed" if m.metrics.completed == 0
                   else "no steady window: " + "; ".join(m.window.reasons))
        run = head.failed("interrupted" if m.interrupted else "failed", why)
        return run.model_copy(update={"metrics": flat_metrics(figures)})
    power: PowerBlock = m.energy.block if m.energy is not None else no_power(no_power_reason)
    refused = verification(m)
    run = measured_run(head, m.window.slice_tokens, [b - a for a, b in pairwise(bounds)], power=power,
                       phases=phases(m), status=status, error="interrupted (stop signal)" if m.interrupted else None,
                       verified=refused is None, metrics={**figures, **({"verification": refused} if refused else {})})
    return with_soak(run, m.settings.soak)
