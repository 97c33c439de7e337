"""From a finished serve measurement to the typed run record (phase 2: the record is being written).

:func:`run_inputs` gathers, from one :class:`~bench.serve.measure.ServeMeasurement`, everything a
``sitebench.result`` run of workload ``serve`` needs; :func:`to_run_record` will turn that into
the record once ``bench/record/`` exists. Keeping the hand-over in one plain dataclass means the
record's shape can change without touching the client, the load generator or the metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from bench.serve.measure import ServeMeasurement


@dataclass(frozen=True)
class ServeRunInputs:
    """What one load point hands to the run record.

    Attributes:
        device: ``endpoint:HOST[:PORT]`` (the run's device).
        server: the server's identity from ``/v1/models`` and its answers: ``base_url``, ``model``,
            ``models``, ``engine`` (vllm, sglang, unknown), ``owned_by``, ``root``, ``max_model_len``,
            ``server_header``.
        hardware: what the meters say they measure (e.g. DCGM ``modelName``/``UUID``/``Hostname`` per
            GPU), for the record's ``system`` block; empty when no meter says.
        params: the load point and dataset: ``endpoint``, ``dataset``, ``num_prompts``,
            ``request_rate`` (``"inf"`` or req/s), ``burstiness``, ``max_concurrency``, ``seed``,
            ``warmup``, ``goodput_slo_ms``.
        token_source: ``usage``, ``tokenizer`` or ``tokenizer+usage``: who counted the tokens.
        window_start, window_end: the steady window, ``time.monotonic()`` s; the power sampler holds
            markers ``serve/<point>/steady/start`` and ``.../steady/end`` at exactly these times.
        window_valid, window_reasons: the window's stability verdict (:mod:`bench.serve.steady`).
        output_tokens, total_tokens: output, and input + output, tokens inside the window (the
            units of ``J per token``: output tokens are the sizing unit, ``unit: "token"``).
        throughput_samples: output tokens/s in each of the window's equal slices (their mean is
            output_tokens / window length), for the record's throughput spread.
        metrics: the per-request figures in vLLM's saved-result keys (``mean_ttft_ms``,
            ``p99_itl_ms``, ``request_throughput``, ``completed``, ``failed``... see
            :func:`bench.serve.render.vllm_json`), without the per-request lists.
        failures: failed requests per reason class (``HTTP 429``, ``stream cut``...).
        power: the power layer's block over the window (:func:`bench.power.window.block.power_block`),
            None without meters or without a window.
        energy: J per output token and per token over the window for the primary scope and each
            meter, each with its scope, and ``valid_for_sizing`` with reasons; None as ``power``.
    """

    device: str
    server: dict[str, Any]
    hardware: list[dict[str, str]]
    params: dict[str, Any]
    token_source: str | None
    window_start: float | None
    window_end: float | None
    window_valid: bool
    window_reasons: list[str]
    output_tokens: float
    total_tokens: float
    throughput_samples: list[float]
    metrics: dict[str, Any]
    failures: dict[str, int]
    power: dict[str, Any] | None
    energy: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)


PER_REQUEST = ("input_lens", "output_lens", "ttfts", "itls", "latencies", "start_times", "errors", "generated_texts")


def run_inputs(m: ServeMeasurement, meters: list[Any] | None = None) -> ServeRunInputs:
    """The hand-over of one measurement; ``meters`` are the sampler's meters (for their hardware)."""
    from bench.serve.render import vllm_json

    doc = vllm_json(m)
    srv, s = m.setup.server, m.settings
    extra = doc.pop("sitebench")
    return ServeRunInputs(
        device=f"endpoint:{srv.host}",
        server={"base_url": srv.base_url, "model": srv.model, "models": srv.models, "engine": srv.engine,
                "owned_by": srv.owned_by, "root": srv.root, "max_model_len": srv.max_model_len,
                "server_header": srv.server_header},
        hardware=[h for meter in meters or [] for h in getattr(meter, "hardware", [])],
        params={"endpoint": s.endpoint, "dataset": m.setup.dataset, "num_prompts": len(m.records),
                "request_rate": "inf" if math.isinf(m.point.rate) else m.point.rate, "burstiness": s.burstiness,
                "max_concurrency": m.point.max_concurrency, "seed": s.seed, "warmup": s.warmup,
                "goodput_slo_ms": dict(s.goodput)},
        token_source=m.metrics.token_source,
        window_start=m.window.start, window_end=m.window.end, window_valid=m.window.valid,
        window_reasons=list(m.window.reasons), output_tokens=m.window.output_tokens,
        total_tokens=m.window.total_tokens, throughput_samples=list(m.window.slice_rates),
        metrics={k: v for k, v in doc.items() if k not in PER_REQUEST},
        failures=dict(m.metrics.failures),
        power=m.energy.block if m.energy else None, energy=extra["energy"], notes=list(m.notes),
    )


def to_run_record(inputs: ServeRunInputs) -> Any:
    """TODO(phase 2): the typed run record of ``bench/record/`` for one serve load point.

    Proposed mapping (``sitebench.result`` run fields on the left):

    - ``workload: "serve"``, ``device: inputs.device``, ``unit: "token"``, ``params: inputs.params``
      plus ``model`` and ``token_source``; ``status: "ok"`` when requests completed (``"failed"`` when
      none did); ``verified``: the server's usage agrees with the tokens streamed (``token_source``
      ``usage``), else not verified with the reason;
    - ``throughput``: ``{"median": output_tokens / window length, "samples": throughput_samples,
      "unit": "token/s"}``, so throughput and power come from the same window;
    - ``power``: ``inputs.power`` (its ``energy_j`` over the window; J per token is energy / tokens);
      ``valid_for_sizing`` false with the window's reasons when ``window_valid`` is false;
    - ``efficiency``: ``{"per_joule": output_tokens / energy_j, "unit": "token/J"}`` (so MW per
      M tok/s = J per output token); J per total token beside it;
    - ``serving``: ``inputs.metrics`` (vLLM keys), ``failures``, ``server``, the window's edges
      relative to the run start;
    - ``system``: the endpoint's ``server`` identity and the meters' ``hardware`` (not this machine's).
    """
    raise NotImplementedError("the typed run record (bench/record/) does not exist yet: phase 2")
