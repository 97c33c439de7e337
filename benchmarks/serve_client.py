"""Client benchmark for `sitebench serve`: how much load the client itself can drive and how well it times.

The fake OpenAI server (bench.testing.openai_server) runs in its own process, so on a 2-core machine
client and server each get a core. Three runs, each through the whole client path (probe, SSE
parsing, per-request records, vLLM's metric definitions):

1. tokens: zero-delay server, long answers, many in flight: streamed output tokens per second;
2. requests: zero-delay server, short answers: completed requests per second;
3. timing: the server sends a token every 20 ms: the measured ITL p50 must be within 1 ms of it.

Bars (the issue's): >= 20,000 tokens/s, >= 500 requests/s, |ITL p50 - 20 ms| <= 1 ms. Not a test.
Run: .venv/bin/python benchmarks/serve_client.py [--tokens-requests 400] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil

from bench.serve.measure.outcome import (
    LoadPoint,
    ServeMeasurement,
    ServeSettings,
    measure_sync,
    prepare_sync,
)

DEFINITIONS = {
    "output_throughput": "total output tokens (server usage) / benchmark duration",
    "request_throughput": "completed requests / benchmark duration",
    "median_itl_ms": "median gap between successive token chunks, pooled over requests",
    "duration": "first request released -> last response ended",
}
VLLM = {
    "output_throughput": "sum(output_lens) / benchmark_duration (usage completion_tokens)",
    "request_throughput": "completed / benchmark_duration",
    "median_itl_ms": "np.median of pooled itls (gap between chunks with choices)",
    "duration": "perf_counter before dispatch loop -> after gather",
}


@dataclass
class Server:
    """The fake server in a child process."""

    url: str
    process: psutil.Process

    def cpu_s(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system


@contextmanager
def fake_server(itl: float = 0.0) -> Iterator[Server]:
    """The fake server in a child process."""
    proc = subprocess.Popen([sys.executable, "-m", "bench.testing.openai_server", "--itl", str(itl)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield Server(f"http://127.0.0.1:{port}", psutil.Process(proc.pid))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Run:
    """One measurement and the CPU seconds the client (this process) and the server spent on it."""

    m: ServeMeasurement
    client_cpu_s: float
    server_cpu_s: float

    def per_cpu_s(self, units: float) -> tuple[float, float]:
        """``units`` per CPU-second of the client and of the server."""
        return units / self.client_cpu_s, units / self.server_cpu_s


def measure(server: Server, *, prompts: int, out: int, concurrency: int) -> Run:
    settings = ServeSettings(server.url, dataset=f"random:in=16,out={out}", num_prompts=prompts)
    setup = prepare_sync(settings)
    c0, s0 = time.process_time(), server.cpu_s()
    m = measure_sync(setup, settings, [LoadPoint(math.inf, concurrency)])[0]
    return Run(m, time.process_time() - c0, server.cpu_s() - s0)


def figures(runs: list[Run], what: str) -> tuple[float, str]:
    """The median wall-clock rate and a line with it, the runs, and the rate per CPU-second of each side."""
    rates = [getattr(r.m.metrics, what) for r in runs]
    units = [getattr(r.m.metrics, what) * r.m.metrics.duration for r in runs]
    client = statistics.median(r.per_cpu_s(u)[0] for r, u in zip(runs, units))
    server = statistics.median(r.per_cpu_s(u)[1] for r, u in zip(runs, units))
    median = statistics.median(rates)
    return median, (f"wall {median:,.0f}/s (runs {', '.join(f'{v:,.0f}' for v in rates)}); "
                    f"per CPU-second: client {client:,.0f}, server {server:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens-requests", type=int, default=400, help="requests of 256 tokens in run 1")
    parser.add_argument("--short-requests", type=int, default=3000, help="requests of 2 tokens in run 2")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before; server in its own process")

    with fake_server() as server:
        tok = [measure(server, prompts=args.tokens_requests, out=256, concurrency=64) for _ in range(args.repeats)]
        req = [measure(server, prompts=args.short_requests, out=2, concurrency=64) for _ in range(args.repeats)]
    with fake_server(itl=0.02) as server:
        timing = measure(server, prompts=64, out=50, concurrency=16).m
    print(f"load average {os.getloadavg()[0]:.2f} after")
    assert all(r.m.metrics.failed == 0 for r in [*tok, *req]) and timing.metrics.failed == 0, "requests failed"

    tokens, tok_line = figures(tok, "output_throughput")
    requests, req_line = figures(req, "request_throughput")
    itl = timing.metrics.itl
    itl_p50 = itl.p["p50"] or float("nan")
    print(f"\n1. streamed tokens, zero-delay server, {args.tokens_requests} x 256 tokens, concurrency 64:\n   {tok_line}"
          f"\n   bar >= 20,000 tokens/s: {'PASS' if tokens >= 20_000 else 'FAIL'} (wall clock)")
    print(f"2. requests, zero-delay server, {args.short_requests} x 2 tokens, concurrency 64:\n   {req_line}"
          f"\n   bar >= 500 requests/s: {'PASS' if requests >= 500 else 'FAIL'} (wall clock)")
    print(f"3. ITL at a fixed 20 ms, 64 x 50 tokens, concurrency 16: p50 {itl_p50:.3f} ms, mean {itl.mean:.3f} ms, "
          f"p99 {itl.p['p99']:.3f} ms\n   bar |p50 - 20 ms| <= 1 ms: {'PASS' if abs(itl_p50 - 20) <= 1 else 'FAIL'}")
    print("note: on a shared machine the wall-clock rates move with other load; the client's rate per CPU-second "
          "is what one core of the client can sustain.")
    print(f"\n{'figure':<20} {'sitebench serve':<60} vLLM bench serve")
    for key, ours in DEFINITIONS.items():
        print(f"{key:<20} {ours:<60} {VLLM[key]}")


if __name__ == "__main__":
    main()
