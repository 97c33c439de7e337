"""Energy or power of a remote machine from a Prometheus metrics page.

``--meter prometheus:URL,metric=NAME[,label=SEL]...[,sum][,unit=U][,scope=S][,period=S][,timeout=S]``
``[,accuracy=F][,insecure][,token=T]`` (declared in :data:`bench.power.spec.BACKENDS`)

For a server sitebench drives over the network: DCGM exporter (``DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION``, mJ,
per GPU), node exporter RAPL (``node_rapl_package_joules_total``, J), Kepler (``*_joules_total``). A counter
is preferred; a gauge (``DCGM_FI_DEV_POWER_USAGE``, ``*_watts``) is integrated like any polled power.
Options: ``metric=`` the sample name as exposed (``_total`` optional); ``label=KEY=VALUE`` (or ``!=``,
``=~REGEX``, ``!~REGEX``, anchored as in PromQL), repeatable, all must hold, no comma in a value; several
matching series give one meter each (each GPU its own ``gpu:N``, as NVML) or, with ``sum``, one meter of
their sum (series fixed at opening: one that disappears is a gap, never a partial sum); ``unit=`` ``J mJ
uJ kJ Wh kWh`` (counter) or ``W mW kW`` (gauge), by default DCGM's units, J for ``*_joules[_total]``, W
for ``*_watts``; ``scope=`` ``gpu:N cpu-package:N dram:N node wall``, by default from DCGM's ``gpu`` and
RAPL's ``index`` labels (a sum joins its scopes with ``+``); ``period=`` the exporter's refresh (default
1 s, recorded as assumed; dcgm-exporter collects every 30 s unless run with ``-c 1000``); ``timeout=``
the longest a scrape may take (2 s); ``accuracy=`` a fraction (5% for DCGM and RAPL metrics, else
unstated); ``insecure`` skips TLS verification (recorded); ``token=`` (else ``PROMETHEUS_TOKEN``) is sent
as a bearer token, never shown.

The page is fetched through :class:`bench.power.http.HttpClient` by a :class:`~bench.power.poller.Poller`
every ``period / 2``, so the sampler never waits (as :mod:`bench.power.meters.heldpower`): at most
:data:`MAX_BYTES`, ``timeout=`` for each read, and a total deadline per scrape of the poll interval
(at least :data:`MIN_DEADLINE_S`, at most ``timeout=``): a trickled, endless or stalled page is cut
there and is a gap, and the run never waits on it. A counter reading carries the time its value first came
back, so holding it does not shift energy; a counter unchanged for two periods plus the deadline is a
gap (a slow exporter shows instead of a fake flat line). A gauge is sample-and-hold. An unreachable page
is a gap with its reason; at probe time, one line. Values are passed on as read: the sampler's screen
(:mod:`bench.power.plausible`) makes a NaN, a negative or an impossible gauge a gap, and a counter that
goes back (an exporter restart) or leaps a :class:`~bench.power.meter.CounterDiscontinuity`, never
negative energy. A DCGM series whose ``modelName`` is in the catalog declares 2 x that GPU's board power
as its maximum.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from bench.errors import MeterReadError, MeterUnavailable
from bench.hardware import gpu_tdp_w
from bench.power.http import HttpClient
from bench.power.meter import Meter, NoReading, Reading
from bench.power.plausible import declared
from bench.power.poller import Poller
from bench.power.spec import MeterSpec

DEFAULT_PERIOD_S = 1.0
DEFAULT_TIMEOUT_S = 2.0
#: The shortest total deadline of one scrape, however short the poll interval.
MIN_DEADLINE_S = 0.5
MAX_BYTES = 32 << 20  # a node exporter page is well under 1 MB; Kepler's with many containers, a few MB
TOKEN_ENV = "PROMETHEUS_TOKEN"
#: A scrape may overrun its timeout by this much before the poller calls it a gap.
GRACE_S = 1.0
ENERGY_UNITS = {"J": 1.0, "mJ": 1e-3, "uJ": 1e-6, "kJ": 1e3, "Wh": 3600.0, "kWh": 3.6e6}
POWER_UNITS = {"W": 1.0, "mW": 1e-3, "kW": 1e3}
SCOPES = re.compile(r"^(node|wall|(gpu|cpu-package|dram):\d+)$")
HARDWARE_LABELS = ("modelName", "UUID", "Hostname", "device", "pci_bus_id")

#: metric -> (unit, scope template from labels, accuracy, what it is)
KNOWN: dict[str, tuple[str, str | None, float | None, str]] = {
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": ("mJ", "gpu:{gpu}", 0.05, "DCGM exporter: NVML board energy counter"),
    "DCGM_FI_DEV_POWER_USAGE": ("W", "gpu:{gpu}", 0.05, "DCGM exporter: NVML board power (a 1 s average on Ampere+)"),
    "DCGM_FI_DEV_POWER_USAGE_INSTANT": ("W", "gpu:{gpu}", 0.05, "DCGM exporter: NVML instant board power"),
    "node_rapl_package_joules_total": ("J", "cpu-package:{index}", 0.05, "node exporter: RAPL package energy counter"),
    "node_rapl_dram_joules_total": ("J", "dram:{index}", 0.05, "node exporter: RAPL DRAM energy counter"),
}

Key = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Selector:
    """One ``label=`` condition: ``KEY=VALUE``, ``KEY!=VALUE``, ``KEY=~REGEX`` or ``KEY!~REGEX``."""

    key: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Raises MeterUnavailable for a malformed condition or regex."""
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)(.*)$", text)
        if not match:
            raise MeterUnavailable(f"label={text!r}: expected KEY=VALUE, KEY!=VALUE, KEY=~REGEX or KEY!~REGEX")
        try:
            re.compile(match[3] if "~" in match[2] else "")
        except re.error as exc:
            raise MeterUnavailable(f"label={text!r}: bad regex ({exc})") from None
        return cls(*match.groups())

    def matches(self, labels: dict[str, str]) -> bool:
        """True when ``labels`` meet it (a missing label is the empty string, as in PromQL)."""
        have = labels.get(self.key, "")
        hit = have == self.value if "~" not in self.op else re.fullmatch(self.value, have) is not None
        return hit if self.op[0] == "=" else not hit


def _base(name: str) -> str:
    return name.removesuffix("_total")


class Scraper:
    """Fetches one page on a :class:`~bench.power.poller.Poller`; keeps the selected series' values and
    when each value first appeared."""

    def __init__(self, url: str, metric: str, selectors: list[Selector], client: HttpClient, poll_s: float) -> None:
        self.url, self.metric, self.selectors, self.client = url, metric, selectors, client
        self.timeout_s = client.deadline_s
        self.poll_s = poll_s
        self.users = 0
        self._seen: dict[Key, tuple[float, float]] = {}  # key -> (value, first seen)
        self.poller: Poller[dict[Key, tuple[float, float]]] = Poller(
            self._scrape, poll_s, name=f"prometheus {urlsplit(url).netloc}", timeout_s=self.timeout_s + GRACE_S,
            keep=16)

    def fetch(self) -> dict[Key, float]:
        """The selected series now (blocks up to the timeout); MeterReadError when the page fails."""
        text = self.client.get(self.url).body.decode("utf-8", "replace")
        base = _base(self.metric)
        lines = "\n".join(line for line in text.splitlines() if line.startswith((base, "# HELP " + base, "# TYPE " + base)))
        found: dict[Key, float] = {}
        try:
            for family in text_string_to_metric_families(lines + "\n"):
                for s in family.samples:
                    if _base(s.name) == base and all(sel.matches(s.labels) for sel in self.selectors):
                        found[tuple(sorted(s.labels.items()))] = float(s.value)
        except ValueError as exc:
            raise MeterReadError(f"{self.url}: not a Prometheus text page ({exc})") from None
        return found

    def _scrape(self) -> dict[Key, tuple[float, float]]:
        """One page, each value with when it first came back (a value's time moves only when it changes)."""
        found, now = self.fetch(), time.monotonic()
        old = self._seen
        self._seen = {k: (v, old[k][1] if k in old and old[k][0] == v else now) for k, v in found.items()}
        return self._seen

    def prime(self) -> dict[Key, float]:
        """One scrape now, held for the meters; the selected series.

        Raises:
            MeterReadError: the page failed.
        """
        polled = self.poller.poll_once()
        if polled.error is not None or polled.value is None:
            raise MeterReadError(polled.error or f"{self.url}: no page")
        return {k: v for k, (v, _) in polled.value.items()}

    def snapshot(self) -> tuple[dict[Key, tuple[float, float]], float, str | None]:
        """(values with first-seen times, last successful fetch, last error); starts polling."""
        self.poller.start()
        latest, held = self.poller.snapshot()
        error = latest.error if latest is not None else None
        if held is None or held.value is None:
            return {}, 0.0, error
        return held.value, held.t, error

    def release(self) -> None:
        """One meter is done with it; polling stops with the last."""
        self.users -= 1
        if self.users <= 0:
            self.poller.stop()


class PrometheusMeter(Meter):
    """One series (or the sum of several) of one metric on one endpoint."""

    kind = "prometheus"

    def __init__(self, scraper: Scraper, keys: list[Key], *, name: str, scope: str, factor: float, counter: bool,
                 accuracy: float | None, note: str, period_s: float, unit: str) -> None:
        super().__init__(name, scope, accuracy=accuracy, accuracy_note=note, update_period_s=period_s,
                         method="counter" if counter else "polled")
        self.scraper, self.keys, self.factor, self.counter, self.unit = scraper, keys, factor, counter, unit
        scraper.users += 1
        self.stale_after_s = 2 * period_s + scraper.timeout_s
        # a value comes back at most a poll interval plus a scrape's deadline after the exporter took it
        self.latency_s = scraper.poll_s + scraper.timeout_s
        self.labels = [dict(k) for k in keys]
        self.hardware = [{h: lb[h] for h in HARDWARE_LABELS if h in lb} for lb in self.labels]
        if scope.startswith("gpu:"):  # DCGM names each GPU's model: its board power bounds what it reads
            rated = [gpu_tdp_w(lb.get("modelName", "")) for lb in self.labels]
            self.max_w = sum(declared(w) or 0.0 for w in rated) if all(declared(w) for w in rated) else None

    def read(self) -> Reading:
        values, fetched_at, error = self.scraper.snapshot()
        now = time.monotonic()
        if error is not None:
            raise MeterReadError(error)
        missing = [dict(k) for k in self.keys if k not in values]
        if missing:
            raise MeterReadError(f"{self.name}: series {missing[0]} is no longer on the page")
        raw = sum(values[k][0] for k in self.keys)
        if not self.counter:
            if now - fetched_at > self.stale_after_s:
                raise MeterReadError(f"{self.name}: no answer for {now - fetched_at:.1f} s")
            return Reading(t=now, power_w=raw * self.factor, extra={"age_s": round(now - fetched_at, 3)})
        seen = max(values[k][1] for k in self.keys)
        if now - seen > self.stale_after_s:
            raise MeterReadError(f"{self.name}: counter unchanged for {now - seen:.1f} s (does the exporter refresh "
                                 f"every {self.update_period_s:g} s? set period=)")
        # the counter as read, in J: the sampler's screen keeps it from 0 and across restarts
        return Reading(t=seen, energy_j=raw * self.factor, extra={"age_s": round(now - seen, 3)})

    def close(self) -> None:
        self.scraper.release()

    def source(self) -> dict[str, Any]:
        """Where the readings come from: page, metric, unit and the label sets of its series."""
        return {"url": self.scraper.url, "metric": self.scraper.metric, "unit": self.unit, "series": self.labels}


def _unit(metric: str, spec: MeterSpec) -> str:
    guess = "J" if _base(metric).endswith("_joules") else "W" if metric.endswith("_watts") else None
    unit = spec.word("unit") or (KNOWN[metric][0] if metric in KNOWN else guess)
    if unit not in ENERGY_UNITS and unit not in POWER_UNITS:
        raise MeterUnavailable(f"cannot tell the unit of {metric}: add unit= one of "
                               f"{' '.join([*ENERGY_UNITS, *POWER_UNITS])}")
    return unit


def _scope(metric: str, spec: MeterSpec, labels: dict[str, str]) -> str:
    template = spec.word("scope") or (KNOWN[metric][1] if metric in KNOWN else None)
    if template is None:
        raise MeterUnavailable(f"cannot tell what {metric} measures: add scope=node, wall, gpu:N, cpu-package:N or dram:N")
    try:
        scope = template.format(**labels)
    except (KeyError, IndexError):
        raise MeterUnavailable(f"{metric}: no label to name its scope ({template}); add scope=") from None
    if not SCOPES.match(scope):
        raise MeterUnavailable(f"scope {scope!r}: expected node, wall, gpu:N, cpu-package:N or dram:N")
    return scope


def open_spec(spec: MeterSpec) -> list[Meter]:
    """The meters named by ``prometheus:URL,metric=NAME[,...]`` (see the module).

    Raises:
        MeterUnavailable: a bad label, unit or scope, or no series matches; :class:`NoReading` when the page
            cannot be read; one line.
    """
    url, metric = spec.target or "", spec.word("metric") or ""
    parts = urlsplit(url)
    selectors = [Selector.parse(text) for text in spec["label"] or ()]  # type: ignore[union-attr]
    url = url if parts.path.strip("/") else url.rstrip("/") + "/metrics"
    unit = _unit(metric, spec)
    period = spec.number("period")
    given_accuracy = spec["accuracy"]
    accuracy = (given_accuracy if isinstance(given_accuracy, float)
                else KNOWN[metric][2] if metric in KNOWN else None)
    token = spec.word("token") or os.environ.get(TOKEN_ENV)
    timeout = spec.number("timeout")
    client = HttpClient(timeout_s=timeout, deadline_s=min(timeout, max(period / 2, MIN_DEADLINE_S)),
                        max_bytes=MAX_BYTES, insecure=spec["insecure"] is True,
                        headers={"Accept": "text/plain;version=0.0.4"},
                        secret_headers={"Authorization": f"Bearer {token}"} if token else None,
                        meter="prometheus", peer="exporter")
    scraper = Scraper(url, metric, selectors, client, period / 2)
    try:
        found = scraper.prime()
    except MeterReadError as exc:
        raise NoReading(str(exc)) from None
    if not found:
        raise MeterUnavailable(f"{url}: no series of {metric} matches{' the labels' if selectors else ''}")
    keys = sorted(found)
    summed = spec["sum"] is True
    if len(keys) > 1 and spec.given("scope") and not summed:
        raise MeterUnavailable(f"{len(keys)} series of {metric} match but scope= names one: pick one with label= "
                               "or add sum")
    what = KNOWN[metric][3] if metric in KNOWN else f"Prometheus metric {metric}" + (
        " (Kepler: a model estimate where the node has no hardware counter)" if metric.startswith("kepler_") else "")
    note = (f"{what} from {parts.netloc}, in {unit}; exporter refresh {period:g} s"
            f"{'' if spec.given('period') else ' assumed (set period=)'}"
            f"{'; TLS certificate NOT verified (insecure)' if client.insecure else ''}")
    groups = [keys] if summed else [[k] for k in keys]
    differing = sorted({lk for k in keys for lk, _ in k if len({dict(x).get(lk) for x in keys}) > 1})
    differing = [lk for lk in re.findall(r"{(\w+)}", KNOWN.get(metric, ("", ""))[1] or "") if lk in differing] or differing
    meters: list[Meter] = []
    for group in groups:
        scopes = sorted({_scope(metric, spec, dict(k)) for k in group})
        tag = (f"sum of {len(group)}" if len(group) > 1 else
               ",".join(f"{lk}={dict(group[0]).get(lk, '')}" for lk in differing))
        meters.append(PrometheusMeter(scraper, group, name=f"prometheus:{parts.netloc}/{metric}"
                                      + (f"{{{tag}}}" if tag else ""),
                                      scope=spec.word("scope") or "+".join(scopes),
                                      factor=ENERGY_UNITS.get(unit) or POWER_UNITS[unit], counter=unit in ENERGY_UNITS,
                                      accuracy=accuracy, note=note, period_s=period, unit=unit))
    return meters
