"""Serving metrics as vLLM's ``bench serve`` defines them.

Over the successful requests of one run of ``duration`` s (first release to last answer):

- TTFT: from sending a request to its first token event;
- ITL: the gaps between successive token events of a request, pooled over requests;
- TPOT: (latency - TTFT) / (output tokens - 1), per request with at least 2 output tokens;
- E2EL (latency): from sending to the last token event;
- request, output and total (input + output) token throughput: counts / ``duration``;
- goodput: requests per second meeting every given SLO (``ttft``, ``tpot``, ``e2el`` in ms; a
  request with fewer than 2 output tokens has TPOT 0 for this test, as in vLLM);
- each distribution's mean, median, standard deviation (population, numpy's default) and
  p50/p90/p99 (linear interpolation, :func:`bench.stats.percentiles`), in ms;
- the peak output tokens in any one-second bucket and the peak number of requests in flight.

Token counts are the server's usage (or a local tokenizer's, see :mod:`bench.serve.protocol.tokens`).
An empty distribution has no figures (None), where vLLM writes 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from bench.errors import UsageError
from bench.serve.protocol.records import RequestRecord
from bench.stats import percentiles

QUANTILES = (50, 90, 99)
SLO_NAMES = ("ttft", "tpot", "e2el")


@dataclass(frozen=True)
class Distribution:
    """Mean, median, std and percentiles of one latency, in ms (None when there were no samples)."""

    mean: float | None
    median: float | None
    std: float | None
    p: dict[str, float | None]
    count: int

    @classmethod
    def of(cls, seconds: list[float]) -> Distribution:
        """The distribution of samples given in seconds."""
        if not seconds:
            return cls(None, None, None, percentiles([], QUANTILES), 0)
        ms = np.asarray(seconds, dtype=float) * 1000.0
        return cls(float(ms.mean()), float(np.median(ms)), float(ms.std()), percentiles(ms.tolist(), QUANTILES),
                   len(seconds))


@dataclass
class ServeMetrics:
    """The figures of one run (see the module's definitions)."""

    completed: int
    failed: int
    duration: float
    total_input: int
    total_output: int
    request_throughput: float
    output_throughput: float
    total_token_throughput: float
    request_goodput: float | None
    ttft: Distribution
    tpot: Distribution
    itl: Distribution
    e2el: Distribution
    max_output_tokens_per_s: float
    max_concurrent_requests: int
    failures: dict[str, int] = field(default_factory=dict)
    token_source: str | None = None


def parse_goodput(text: str | None) -> dict[str, float]:
    """``ttft:MS,tpot:MS,e2el:MS`` (any subset) as ``{name: ms}``.

    Raises:
        UsageError: an unknown name or a value that is not a non-negative number.
    """
    if not text:
        return {}
    slos: dict[str, float] = {}
    for item in text.replace(" ", ",").split(","):
        if not item:
            continue
        name, _, value = item.partition(":")
        try:
            ms = float(value)
        except ValueError:
            ms = -1.0
        if name not in SLO_NAMES or not ms >= 0:
            raise UsageError(f"--goodput {text}: expected NAME:MS pairs with NAME in {', '.join(SLO_NAMES)} "
                             "and MS a non-negative number of milliseconds")
        slos[name] = ms
    return slos


def _good(rec: RequestRecord, slos: dict[str, float]) -> bool:
    values = {"ttft": rec.ttft, "tpot": rec.tpot or 0.0, "e2el": rec.latency}
    return all((values[k] or 0.0) * 1000.0 <= ms for k, ms in slos.items())


def _peaks(ok: list[RequestRecord]) -> tuple[float, int]:
    if not ok:
        return 0.0, 0
    t0 = min(r.dispatched for r in ok)
    buckets: defaultdict[int, float] = defaultdict(float)
    for r in ok:
        share = (r.output_tokens or 0) / len(r.token_times)
        for t in r.token_times:
            buckets[int(t - t0)] += share
    events = sorted([(r.dispatched, 1) for r in ok] + [(r.token_times[-1], -1) for r in ok],
                    key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, delta in events:
        level += delta
        peak = max(peak, level)
    return float(max(buckets.values(), default=0.0)), peak


def token_source(records: list[RequestRecord]) -> str | None:
    """``usage``, ``tokenizer``, ``tokenizer+usage`` (mixed) or None (no successful request)."""
    sources = sorted({r.token_source for r in records if r.ok and r.token_source})
    return "+".join(sources) if sources else None


def compute(records: list[RequestRecord], duration: float, slos: dict[str, float] | None = None) -> ServeMetrics:
    """The metrics of a run whose load lasted ``duration`` s."""
    ok = [r for r in records if r.ok]
    out_total = sum(r.output_tokens or 0 for r in ok)
    in_total = sum(r.input_tokens or 0 for r in ok)
    dur = duration if duration > 0 else float("nan")
    peak_tokens, peak_requests = _peaks(ok)
    return ServeMetrics(
        completed=len(ok),
        failed=len(records) - len(ok),
        duration=duration,
        total_input=in_total,
        total_output=out_total,
        request_throughput=len(ok) / dur,
        output_throughput=out_total / dur,
        total_token_throughput=(in_total + out_total) / dur,
        request_goodput=sum(1 for r in ok if _good(r, slos)) / dur if slos else None,
        ttft=Distribution.of([r.ttft for r in ok if r.ttft is not None]),
        tpot=Distribution.of([t for t in (r.tpot for r in ok) if t is not None]),
        itl=Distribution.of([x for r in ok for x in r.itls]),
        e2el=Distribution.of([r.latency for r in ok if r.latency is not None]),
        max_output_tokens_per_s=peak_tokens,
        max_concurrent_requests=peak_requests,
        failures=dict(Counter(r.failure for r in records if not r.ok).most_common()),
        token_source=token_source(records),
    )
