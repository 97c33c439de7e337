"""Hostile Prometheus exporters: fake metrics pages on loopback that misbehave, against ``sitebench run --meter prometheus:``.

Each case serves one :class:`Exporter` (a real HTTP server on ``127.0.0.1``) whose first answer, the
probe when the meter opens, is honest unless the case says otherwise; later answers misbehave: an
impossible value (NaN, -300 W, 10^12 W, +Inf, a counter that goes back or leaps), a page that
trickles, never ends, is huge, malformed, loses its metric, stalls or hangs up. sitebench runs a
fast third-party workload with that one meter in a bounded child process
(:func:`tests.hostile.framework.sitebench`). A case is judged on what came out:

- ``traceback`` / ``hang``: the child showed a traceback, ran out of memory or past its limit, or took
  longer than :data:`STALL_S` (an honest run of this plan takes a few seconds; every wait on the
  exporter is bounded by the scrape's deadline, so a slow exporter is a gap, never a stall);
- ``lost``: no result file, a file that does not load, the run or its throughput windows missing, the
  meter missing from the file, or the misbehaviour nowhere in its gaps and refusals (readings dropped
  without a word);
- ``lie``: an impossible value in a power trace, or a power figure usable for sizing (or a meter
  window called valid) more than :data:`LIE_MARGIN` from the exporter's true power;
- ``ok`` otherwise: the run completed and was written, the bad readings are gaps with their reason
  (or the meter was refused at opening in one clear line, where the case allows it).

``python benchmarks/hostile_sources.py --source prometheus -v`` runs them all.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.record import load
from bench.record.bounds import MAX_MACHINE_W
from tests.conftest import make_distribution
from tests.hostile.framework import ROOT, Case, Outcome, Ran, sitebench

SOURCE = "prometheus"
#: A fast run of a third-party counting workload: about a second of measured windows.
RUN = ("-w", "thirdparty-count", "--idle", "0.05", "--warmup", "0.05", "--window", "0.5", "--repeats", "2",
       "--sample-hz", "40", "--quiet")
#: The child is killed past this (a hang).
RUN_LIMIT_S = 90.0
#: A run that takes longer than this was stalled by its exporter (an honest one takes a few seconds).
STALL_S = 40.0
#: What the fake exporters truly measure.
TRUE_W = 250.0
#: A figure usable for sizing this far from the truth is a lie (a gauge's: the exporters' gauges are exact).
LIE_MARGIN = 1.1
#: The same for a counter, whose readings are timed by when its page came back: on a loaded machine a late
#: page moves a one-second window's figure by tens of percent; the lies looked for are orders of magnitude.
COUNTER_LIE_MARGIN = 1.5
GAUGE = "node_power_watts"
COUNTER = "node_energy_joules_total"
#: The exporters refresh every 50 ms: the meter polls every 25 ms.
PERIOD = "period=0.05"

Serve = Callable[["Request"], None]


class Request:
    """One request to an :class:`Exporter`: its number (0: the probe when the meter opens), its time since the
    exporter started, and ways to answer (honestly framed, or not)."""

    def __init__(self, handler: BaseHTTPRequestHandler, n: int, t: float) -> None:
        self.handler, self.n, self.t = handler, n, t

    def page(self, text: str, status: int = 200) -> None:
        body = text.encode()
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", "text/plain; version=0.0.4")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _open_ended(self, headers: dict[str, str] | None = None) -> None:
        h = self.handler
        h.send_response(200)
        h.send_header("Content-Type", "text/plain; version=0.0.4")
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.flush()

    def trickle(self, text: str, every_s: float) -> None:
        """The page one byte at a time, ``every_s`` apart (until the client hangs up)."""
        self._open_ended()
        for byte in text.encode():
            self.handler.wfile.write(bytes([byte]))
            self.handler.wfile.flush()
            time.sleep(every_s)

    def endless(self) -> None:
        """A body that never ends: comment lines as fast as the client takes them (at most 4 GB)."""
        self._open_ended()
        chunk = (b"# " + b"x" * 1021 + b"\n") * 64
        for _ in range((4 << 30) // len(chunk)):
            self.handler.wfile.write(chunk)

    def huge(self, text: str, padding: int) -> None:
        """``padding`` bytes of comments before the page, with no length declared."""
        self._open_ended()
        block = (b"# " + b"y" * 1021 + b"\n") * 64
        for _ in range(padding // len(block)):
            self.handler.wfile.write(block)
        self.handler.wfile.write(text.encode())

    def declares(self, length: int) -> None:
        """A ``Content-Length`` of ``length`` bytes, then a little of it."""
        h = self.handler
        h.send_response(200)
        h.send_header("Content-Length", str(length))
        h.end_headers()
        h.wfile.write(b"# the rest never comes\n")
        h.wfile.flush()
        time.sleep(1.0)

    def endless_headers(self) -> None:
        """A status line, then header lines without end (until the client hangs up)."""
        h = self.handler
        h.send_response(200)
        for i in range(10**6):
            h.send_header(f"X-Padding-{i}", "z" * 64)
            h.flush_headers()

    def hang_up(self) -> None:
        """Close the connection without a word."""
        self.handler.close_connection = True
        self.handler.connection.shutdown(2)


class Exporter(ThreadingHTTPServer):
    """A metrics page on 127.0.0.1 answered by ``serve`` (a context manager)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, serve: Serve) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                exporter: Exporter = self.server  # type: ignore[assignment]
                with exporter.lock:
                    n = exporter.requests
                    exporter.requests += 1
                try:
                    exporter.serve(Request(self, n, time.monotonic() - exporter.t0))
                except OSError:  # the client hung up (a cut trickle, an endless page): expected
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.serve, self.requests, self.lock = serve, 0, threading.Lock()
        self.t0 = time.monotonic()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/metrics"

    def __enter__(self) -> Exporter:
        self.t0 = time.monotonic()
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


# --- pages ----------------------------------------------------------------------------------------------

NEIGHBOURS = ('# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.42\n'
              'node_cpu_seconds_total{cpu="0",mode="idle"} 12345.6\n')


def gauge_page(value: str) -> str:
    return (f"{NEIGHBOURS}# HELP {GAUGE} Power drawn by the node.\n# TYPE {GAUGE} gauge\n"
            f'{GAUGE}{{instance="node-7"}} {value}\n')


def counter_page(value: str, metric: str = COUNTER) -> str:
    return (f"{NEIGHBOURS}# HELP {metric} Energy drawn by the node.\n# TYPE {metric} counter\n"
            f'{metric}{{instance="node-7"}} {value}\n')


def honest_j(t: float) -> float:
    return 1000.0 + TRUE_W * t


def _gauges(value: Callable[[Request], str]) -> Serve:
    """Answers a gauge page: honest at the probe, then ``value(request)``."""
    return lambda r: r.page(gauge_page(str(TRUE_W) if r.n == 0 else value(r)))


def _counters(value: Callable[[Request], str], metric: str = COUNTER) -> Serve:
    return lambda r: r.page(counter_page(f"{honest_j(r.t):.6f}" if r.n == 0 else value(r), metric))


def _after_probe(misbehave: Callable[[Request], None]) -> Serve:
    """An honest gauge page at the probe, then ``misbehave``."""
    def serve(r: Request) -> None:
        if r.n == 0:
            r.page(gauge_page(str(TRUE_W)))
        else:
            misbehave(r)
    return serve


# --- running and judging --------------------------------------------------------------------------------

def _tail(ran: Ran) -> str:
    return (ran.stderr.strip().splitlines() or ran.stdout.strip().splitlines() or [""])[-1][:300]


def _finite_point(p: Any) -> bool:
    return isinstance(p, list) and len(p) == 2 and all(isinstance(x, (int, float)) and math.isfinite(x) for x in p)


def _judge(ran: Ran, out: Path, took: float, expect: str, truth_w: float | None, refusal_ok: bool,
           margin: float = LIE_MARGIN) -> Outcome:
    verdict = ran.verdict_of_process()
    if verdict is not None:
        return Outcome(verdict, f"after {took:.1f} s: {_tail(ran)}")
    if took > STALL_S:
        return Outcome("hang", f"the run took {took:.0f} s (an honest one takes a few): stalled by the exporter")
    if not out.exists():
        lines = [ln for ln in ran.stderr.splitlines() if ln.strip()]
        if refusal_ok and ran.returncode == 2 and len(lines) == 1 and re.search(expect, lines[0], re.I):
            return Outcome("ok", f"refused at opening: {lines[0][:200]}")
        return Outcome("lost", f"exit {ran.returncode}, no result file: {_tail(ran)}")
    try:
        load(out)
    except Exception as exc:  # noqa: BLE001 - a file that does not load lost what it held
        return Outcome("lost", f"the result file does not load: {str(exc)[:200]}")
    doc = json.loads(out.read_text(encoding="utf-8"))
    runs = doc.get("runs") or []
    if len(runs) != 1 or runs[0].get("status") != "ok" or len(runs[0]["throughput"]["samples"]) != 2:
        return Outcome("lost", f"the run or its windows are missing: {[r.get('status') for r in runs]}")
    power = runs[0]["power"]
    meters = [m for m in power.get("meters", []) if m.get("kind") == "prometheus"]
    if not meters:
        return Outcome("lost", "the prometheus meter is not in the file")
    meter = meters[0]
    for trace in (meter.get("trace", []), power.get("trace", [])):
        bad = [p for p in trace if not _finite_point(p) or not 0.0 <= p[1] <= MAX_MACHINE_W]
        if bad:
            return Outcome("lie", f"an impossible power in the trace: {bad[0]}")
    told = [g["reason"] for g in meter.get("gaps", [])] + meter.get("invalid_reasons", []) + power.get("flags", [])
    if not any(re.search(expect, text, re.I) for text in told):
        return Outcome("lost", f"nothing in the file says what happened ({expect!r} not in {told[:3]})")
    if truth_w is not None:
        for what, watts, usable in (("run", power.get("avg_w"), power.get("valid_for_sizing")),
                                    ("meter", meter.get("avg_w"), meter.get("valid"))):
            if usable and isinstance(watts, (int, float)) and not truth_w / margin <= watts <= truth_w * margin:
                return Outcome("lie", f"the {what} is usable at {watts:.6g} W, truly {truth_w:g} W")
    first = next((t for t in told if re.search(expect, t, re.I)), "")
    return Outcome("ok", f"{took:.1f} s, {meter.get('readings')} readings, {len(meter.get('gaps', []))} gaps: "
                         f"{first[:160]}")


def _run(serve: Serve, options: str, *, expect: str, truth_w: float | None = None,
         refusal_ok: bool = False, metric: str = GAUGE) -> Callable[[Path], Outcome]:
    """``sitebench run`` with ``--meter prometheus:URL,metric=...,options`` against an exporter answering ``serve``."""

    def run(tmp: Path) -> Outcome:
        dist = make_distribution(tmp / "dist")
        out = tmp / "r.json"
        with Exporter(serve) as exporter:
            spec = f"prometheus:{exporter.url},metric={metric},{options}"
            t0 = time.monotonic()
            ran = sitebench("run", *RUN, "--meter", spec, "--out", str(out), timeout_s=RUN_LIMIT_S,
                            env={"PYTHONPATH": f"{dist}{os.pathsep}{ROOT}"}, cwd=tmp)
            took = time.monotonic() - t0
        return _judge(ran, out, took, expect, truth_w, refusal_ok, COUNTER_LIE_MARGIN if metric != GAUGE else LIE_MARGIN)

    return run


class Silent:
    """A port on 127.0.0.1 that takes connections into its backlog and never accepts one (a context manager)."""

    def __enter__(self) -> Silent:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/metrics"

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def _never_accepts(tmp: Path) -> Outcome:
    """The exporter's port is open but nothing ever answers, from the probe on: refused at opening, at once."""
    dist = make_distribution(tmp / "dist")
    out = tmp / "r.json"
    with Silent() as silent:
        t0 = time.monotonic()
        ran = sitebench("run", *RUN, "--meter", f"prometheus:{silent.url},metric={GAUGE},{NODE}", "--out", str(out),
                        timeout_s=RUN_LIMIT_S, env={"PYTHONPATH": f"{dist}{os.pathsep}{ROOT}"}, cwd=tmp)
        took = time.monotonic() - t0
    return _judge(ran, out, took, r"no answer|within", None, True)


def _case(name: str, run: Callable[[Path], Outcome]) -> Case:
    return Case(SOURCE, name, run)


NODE = f"scope=node,{PERIOD}"


def _glitching_gauge(r: Request) -> str:
    return {1: "NaN", 3: "-300", 5: "1e12"}.get(r.n % 6, str(TRUE_W))


def _restarting_counter(r: Request) -> str:
    return f"{TRUE_W * (r.t % 0.3):.6f}"  # the exporter restarts every 0.3 s: its counter starts again at 0


def _leaping_counter(r: Request) -> str:
    return f"{honest_j(r.t) + 1e12 * (r.t // 0.3):.6f}"  # a leap of 10^12 J every 0.3 s


def _sometimes_nan(r: Request) -> str:
    return "NaN" if r.n % 3 == 1 else f"{honest_j(r.t):.6f}"


def _kwh_overflow(r: Request) -> str:
    return "1e308" if r.n % 5 == 2 else f"{honest_j(r.t) / 3.6e6:.12f}"


def _stall(r: Request) -> None:
    time.sleep(10.0)  # then a page of a value no other page had: it must never be the one measured
    r.page(gauge_page("1"))


CASES: list[Case] = [
    # impossible values
    _case("gauge-nan", _run(_gauges(lambda r: "NaN"), NODE, expect=r"nan|not a number")),
    _case("gauge-negative", _run(_gauges(lambda r: "-300"), NODE, expect=r"negative")),
    _case("gauge-1e12-watts", _run(_gauges(lambda r: "1e12"), NODE, expect=r"beyond|more than")),
    _case("gauge-plus-inf", _run(_gauges(lambda r: "+Inf"), NODE, expect=r"inf|not a finite")),
    _case("gauge-glitches-among-honest", _run(_gauges(_glitching_gauge), NODE, truth_w=TRUE_W,
                                              expect=r"nan|not a number|negative|beyond")),
    _case("counter-restarts", _run(_counters(_restarting_counter), NODE, metric=COUNTER, truth_w=TRUE_W,
                                   expect=r"went back|backwards")),
    _case("counter-leaps-1e12-joules", _run(_counters(_leaping_counter), NODE, metric=COUNTER, truth_w=TRUE_W,
                                            expect=r"jump|leap|more than|beyond")),
    _case("counter-nan-among-honest", _run(_counters(_sometimes_nan), NODE, metric=COUNTER, truth_w=TRUE_W,
                                           expect=r"nan|not a number")),
    _case("counter-1e308-kwh", _run(_counters(_kwh_overflow, "node_energy_kwh"), f"unit=kWh,{NODE}",
                                    metric="node_energy_kwh", truth_w=TRUE_W,
                                    expect=r"inf|not a finite|jump|more than|beyond")),
    # pages that misbehave
    _case("trickled-page", _run(_after_probe(lambda r: r.trickle(gauge_page(str(TRUE_W)), 0.1)), NODE,
                                expect=r"did not end|no answer|within")),
    _case("endless-page", _run(_after_probe(lambda r: r.endless()), NODE,
                               expect=r"larger than|did not end|no answer|within")),
    _case("huge-page", _run(_after_probe(lambda r: r.huge(gauge_page(str(TRUE_W)), 40 << 20)), NODE,
                            expect=r"larger than|did not end|no answer|within")),
    _case("declares-a-terabyte", _run(_after_probe(lambda r: r.declares(10**12)), NODE,
                                      expect=r"declares|more than")),
    _case("malformed-lines", _run(_after_probe(lambda r: r.page(
        gauge_page(str(TRUE_W)).replace(f'{GAUGE}{{instance="node-7"}} {TRUE_W}',
                                        f'{GAUGE}{{instance="node-7" {TRUE_W} garbage\x00\xff'))), NODE,
        expect=r"not a Prometheus text page")),
    _case("metric-disappears", _run(_after_probe(lambda r: r.page(NEIGHBOURS)), NODE,
                                    expect=r"no longer on the page")),
    _case("labels-never-match", _run(_gauges(lambda r: str(TRUE_W)), f"label=instance=nowhere,{NODE}",
                                     expect=r"no series", refusal_ok=True)),
    _case("stalls-before-answering", _run(_after_probe(_stall), NODE, expect=r"no answer|within")),
    _case("endless-headers", _run(_after_probe(lambda r: r.endless_headers()), NODE,
                                  expect=r"headers|did not end|no answer|within")),
    _case("never-accepts", _never_accepts),
    _case("hangs-up", _run(_after_probe(lambda r: r.hang_up()), NODE,
                           expect=r"RemoteDisconnected|closed|reset|ended|hung up")),
]
