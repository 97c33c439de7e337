"""The prometheus meter against metrics pages served on 127.0.0.1 (DCGM exporter, node exporter, odd pages)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bench.errors import MeterReadError, MeterUnavailable, UsageError
from bench.power.discovery import open_spec
from bench.power.meters.prometheus import PrometheusMeter, Selector
from bench.power.sampler import Sampler
from bench.testing.openai_server import Behaviour, ServerThread

DCGM = "metric=DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"


def wait_until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll ``check`` until it returns something truthy (raising is 'not yet')."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except (MeterReadError, AssertionError):
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def wait_for_error(call: Callable[[], Any], kind: type[Exception], timeout: float = 20.0) -> Exception:
    """Call ``call`` until it raises ``kind``; that exception."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            call()
        except kind as exc:
            return exc
        except MeterReadError:
            pass
        time.sleep(0.01)
    raise AssertionError(f"no {kind.__name__} in time")


class Page(ThreadingHTTPServer):
    """A metrics page: ``text`` (a string, or a function giving it at each request, for counters that
    move); a ``status`` other than 200 answers an error."""

    daemon_threads = True

    def __init__(self, text: str | Callable[[], str]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page: Page = self.server  # type: ignore[assignment]
                body = (page.text() if callable(page.text) else page.text).encode()
                self.send_response(page.status)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.text, self.status = text, 200
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/metrics"


@pytest.fixture
def page() -> Iterator[Callable[..., Page]]:
    pages: list[Page] = []

    def start(text: str | Callable[[], str]) -> Page:
        pages.append(Page(text))
        return pages[-1]

    yield start
    for p in pages:
        p.shutdown()
        p.server_close()


@pytest.fixture
def dcgm() -> Iterator[str]:
    with ServerThread(Behaviour(watts=[300.0, 200.0])) as server:
        yield server.url


def close(meters: list[Any]) -> None:
    for m in meters:
        m.close()


def test_dcgm_energy_counter_one_meter_per_gpu(dcgm: str) -> None:
    meters = open_spec(f"prometheus:{dcgm}/metrics,{DCGM},period=0.05")
    try:
        assert [m.scope for m in meters] == ["gpu:0", "gpu:1"]
        assert [m.name for m in meters] == [f"prometheus:{dcgm[7:]}/DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{gpu={i}}}"
                                            for i in (0, 1)]
        m = meters[0]
        assert isinstance(m, PrometheusMeter) and m.method == "counter" and m.accuracy == 0.05
        assert m.hardware == [{"modelName": "Fake GPU", "UUID": "GPU-0"}]
        assert m.source()["unit"] == "mJ" and "DCGM exporter" in m.accuracy_note
        first = wait_until(m.read)
        later = wait_until(lambda: (r := m.read()).t > first.t + 3.0 and r)  # 3% of 3 s: 90 ms of fetch jitter
        assert (later.energy_j - first.energy_j) / (later.t - first.t) == pytest.approx(300.0, rel=0.03)
        assert m.max_w is None, "a model the catalog does not know leaves the bound to the scope"
    finally:
        close(meters)


def test_labels_and_sum(dcgm: str) -> None:
    one = open_spec(f"prometheus:{dcgm},{DCGM},label=gpu=1,period=0.05")  # no path: /metrics
    both = open_spec(f"prometheus:{dcgm}/metrics,{DCGM},label=gpu=~0|1,label=modelName!=Other,sum,period=0.05")
    try:
        assert [m.scope for m in one] == ["gpu:1"]
        assert len(both) == 1 and both[0].scope == "gpu:0+gpu:1" and both[0].name.endswith("{sum of 2}")
        a = wait_until(both[0].read)
        b = wait_until(lambda: (r := both[0].read()).t > a.t + 3.0 and r)
        assert (b.energy_j - a.energy_j) / (b.t - a.t) == pytest.approx(500.0, rel=0.03)
    finally:
        close(one + both)


def test_power_gauge(dcgm: str) -> None:
    meters = open_spec(f"prometheus:{dcgm}/metrics,metric=DCGM_FI_DEV_POWER_USAGE,label=gpu=0")
    try:
        reading = wait_until(meters[0].read)
        assert reading.power_w == 300.0 and reading.energy_j is None and meters[0].method == "polled"
    finally:
        close(meters)


RAPL = """# HELP node_rapl_package_joules_total Current RAPL package value in joules
# TYPE node_rapl_package_joules_total counter
node_rapl_package_joules_total{index="0",path="/sys/class/powercap/intel-rapl:0"} {v0}
node_rapl_package_joules_total{index="1",path="/sys/class/powercap/intel-rapl:1"} {v1}
node_rapl_dram_joules_total{index="0",path="/sys/class/powercap/intel-rapl:0:0"} 5.5
kepler_node_platform_joules_total{source="acpi"} 100
custom_energy_wh 2.5
"""


def rapl(v0: float, v1: float = 1.0) -> str:
    return RAPL.replace("{v0}", str(v0)).replace("{v1}", str(v1))


def test_node_exporter_rapl_units_scopes_reset_and_staleness(page: Callable[..., Page]) -> None:
    t0 = time.monotonic()
    state: dict[str, Any] = {"offset": 1000.0, "watts": 10.0, "frozen": None}

    def text() -> str:
        t = state["frozen"] if state["frozen"] is not None else time.monotonic() - t0
        return rapl(state["offset"] + state["watts"] * t)

    p = page(text)
    meters = open_spec(f"prometheus:{p.url},metric=node_rapl_package_joules_total,period=0.05")
    sampler = Sampler(meters, rate_hz=50)
    try:
        assert [m.scope for m in meters] == ["cpu-package:0", "cpu-package:1"]
        m = meters[0]
        a = wait_until(m.read)
        b = wait_until(lambda: (r := m.read()).t > a.t + 3.0 and r)
        assert (b.energy_j - a.energy_j) / (b.t - a.t) == pytest.approx(10.0, rel=0.03)
        sampler.start()
        log = sampler.logs[m.name]
        wait_until(lambda: len(log.readings) > 2)
        before = log.readings[-1].energy_j
        state["offset"] = -100.0  # the exporter's host rebooted: the counter went back
        wait_until(lambda: any(g.discontinuity and "went back from" in g.reason for g in log.gaps))
        wait_until(lambda: log.readings[-1].energy_j > before)  # energy carries on across the reset
        kept = [r.energy_j for r in log.readings]
        assert kept[0] == 0.0 and kept == sorted(kept), "never negative energy, never a step back"
        state["frozen"] = time.monotonic() - t0  # the page no longer moves: a gap, not a flat line
        assert "counter unchanged for" in str(wait_for_error(m.read, MeterReadError))
    finally:
        sampler.stop()


def test_units_and_scopes_by_option(page: Callable[..., Page]) -> None:
    p = page(rapl(1.0))
    wh = open_spec(f"prometheus:{p.url},metric=custom_energy_wh,unit=Wh,scope=wall,accuracy=0.01")
    kepler = open_spec(f"prometheus:{p.url},metric=kepler_node_platform_joules_total,scope=node")
    try:
        assert isinstance(wh[0], PrometheusMeter) and isinstance(kepler[0], PrometheusMeter)
        assert wh[0].scope == "wall" and wh[0].accuracy == 0.01 and wh[0].factor == 3600.0
        assert kepler[0].factor == 1.0 and "Kepler: a model estimate" in kepler[0].accuracy_note
        assert "assumed" in kepler[0].accuracy_note
    finally:
        close(wh + kepler)


@pytest.mark.parametrize("arg, message", [
    ("", "needs the metrics URL"),
    ("ftp://x/metrics,metric=a_joules", "'ftp://x/metrics' is not an http(s) URL"),
    ("{url}", "needs metric=NAME"),
    ("{url},metric=custom_energy_wh", "cannot tell the unit of custom_energy_wh"),
    ("{url},metric=custom_energy_wh,unit=Wh", "cannot tell what custom_energy_wh measures"),
    ("{url},metric=node_rapl_package_joules_total,scope=node", "2 series of node_rapl_package_joules_total match"),
    ("{url},metric=node_rapl_package_joules_total,label=index=7", "no series of node_rapl_package_joules_total matches"),
    ("{url},metric=nothing_joules_total,scope=node", "no series of nothing_joules_total"),
    ("{url},metric=custom_energy_wh,unit=BTU", "unit='BTU': expected one of J, mJ"),
    ("{url},metric=node_rapl_dram_joules_total,scope=gpu", "scope='gpu' is not node, wall"),
    ("{url},metric=x_joules,frobnicate", "not understood"),
    ("{url},metric=x_joules,label=gpu", "expected KEY=VALUE"),
    ("{url},metric=x_joules,label=gpu=~(", "bad regex"),
    ("{url},metric=x_joules,period=0", "must be positive"),
    ("http://127.0.0.1:9/metrics,metric=x_joules,scope=node", "unreachable"),
])
def test_refusals_are_one_line(page: Callable[..., Page], arg: str, message: str) -> None:
    """A spec that breaks the grammar is a usage error; one the exporter cannot satisfy, an unavailable meter."""
    p = page(rapl(1.0))
    with pytest.raises((MeterUnavailable, UsageError), match=re.escape(message)) as err:
        open_spec("prometheus:" + arg.replace("{url}", p.url))
    assert "\n" not in str(err.value)


def test_a_page_that_stops_answering_is_a_gap_in_the_sampler(page: Callable[..., Page]) -> None:
    p = page(rapl(1.0))
    meters = open_spec(f"prometheus:{p.url},metric=custom_energy_wh,unit=W,scope=node,period=0.05")  # a gauge
    sampler = Sampler(meters, rate_hz=50)
    sampler.start()
    try:
        p.status = 503
        wait_until(lambda: any("HTTP 503" in g.reason for g in sampler.logs[meters[0].name].gaps))
        p.status = 200
        p.text = rapl(1.0).replace("custom_energy_wh 2.5", "custom_energy_wh 7.5")
        wait_until(lambda: sampler.logs[meters[0].name].readings[-1].power_w == 7.5)
    finally:
        sampler.stop()


def test_selector_semantics() -> None:
    labels = {"gpu": "1", "Hostname": "n7"}
    assert Selector.parse("gpu=1").matches(labels) and not Selector.parse("gpu!=1").matches(labels)
    assert Selector.parse("Hostname=~n[0-9]").matches(labels) and not Selector.parse("Hostname=~n").matches(labels)
    assert Selector.parse("Hostname!~x.*").matches(labels) and Selector.parse("missing=").matches(labels)


def test_a_dcgm_gauge_beyond_twice_its_gpus_board_power_is_a_gap(page: Callable[..., Page]) -> None:
    h100 = 'modelName="NVIDIA H100 80GB HBM3"'
    p = page(f'DCGM_FI_DEV_POWER_USAGE{{gpu="0",{h100}}} 1500\nDCGM_FI_DEV_POWER_USAGE{{gpu="1",{h100}}} 300\n')
    meters = open_spec(f"prometheus:{p.url},metric=DCGM_FI_DEV_POWER_USAGE,period=10")  # held for 20 s and more
    assert [m.max_w for m in meters] == [1400.0, 1400.0]
    sampler = Sampler(meters)
    try:
        sampler.mark("now")  # the page read when the meters opened is held: no wait
        hot, fine = (sampler.logs[m.name] for m in meters)
        assert hot.readings == [] and "1500 W is beyond the most a gpu:0 meter can read, 1,400 W" in hot.gaps[0].reason
        assert [r.power_w for r in fine.readings] == [300.0] and fine.gaps == []
    finally:
        sampler.stop()


@pytest.mark.parametrize("options, deadline", [
    ("", 0.5),  # the poll interval, period 1 s / 2
    (",period=10", 2.0),  # timeout= bounds it
    (",period=0.05", 0.5),  # never under MIN_DEADLINE_S
    (",timeout=0.3", 0.3),
])
def test_a_scrape_has_a_deadline_of_the_poll_interval(page: Callable[..., Page], options: str, deadline: float) -> None:
    p = page(rapl(1.0))
    meters = open_spec(f"prometheus:{p.url},metric=custom_energy_wh,unit=Wh,scope=wall{options}")
    try:
        m = meters[0]
        assert isinstance(m, PrometheusMeter) and m.scraper.client.deadline_s == deadline
        assert m.latency_s == m.scraper.poll_s + deadline
    finally:
        close(meters)
