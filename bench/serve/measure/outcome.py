"""One serve measurement per load point, with power sampled over its steady window.

Per sweep: discover the server, build the client, probe, make the prompts. Per point
(``--request-rate`` x ``--max-concurrency``), with phase markers on the power sampler:
``serve/<point>/run/start``, warm-up requests (not measured) to ``.../warmup/end``, then the load:
``.../steady/start`` and ``.../steady/end`` when :class:`~bench.serve.measure.steady.SteadyTracker` sees
the edges, ``.../tick-K`` in between (:mod:`bench.serve.measure.slices`: the slice boundaries are chosen
among them), and ``.../run/end``. Every point sends the same prompts (one seed) so points differ
only in load. A ``stop`` event ends the point in progress early (``interrupted``) and the sweep.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp

from bench.errors import UsageError
from bench.measure.soak import SoakSpec
from bench.power.sampler import Sampler
from bench.power.window.block import power_block
from bench.power.window.energy import MIN_PERIODS
from bench.serve.measure.energy import ServeEnergy, energy_per_token
from bench.serve.measure.load import LoadResult, run_load, run_soak_load, session
from bench.serve.measure.metrics import ServeMetrics, compute
from bench.serve.measure.slices import Boundary, Ticker, boundaries, grid_boundaries
from bench.serve.measure.steady import (
    END_PHASE,
    START_PHASE,
    SteadyTracker,
    SteadyWindow,
    analyse,
)
from bench.serve.protocol import dataset as ds
from bench.serve.protocol.boundary import LIMITS, Limits
from bench.serve.protocol.client import OpenAIClient
from bench.serve.protocol.counts import MAX_TOKENS_PER_EVENT
from bench.serve.protocol.records import RequestRecord
from bench.serve.protocol.server import Probe, ServerInfo, discover, normalize_base_url, probe
from bench.serve.protocol.tokens import load_counter

WARMUP_WORDS = 64
T = TypeVar("T")


@dataclass
class ServeSettings:
    """What a ``sitebench serve`` run sends, independent of the load point."""

    base_url: str
    model: str | None = None
    endpoint: str = "completions"
    dataset: str = "random:in=1024,out=128"
    num_prompts: int | None = None
    warmup: int = 0
    seed: int = 0
    burstiness: float = 1.0
    tokenizer: str | None = None
    goodput: dict[str, float] = field(default_factory=dict)
    #: the bounds of every request (:mod:`bench.serve.protocol.boundary`)
    limits: Limits = LIMITS
    #: the most tokens one streamed chunk is believed to carry (:mod:`bench.serve.protocol.counts`)
    per_event: int = MAX_TOKENS_PER_EVENT
    #: ``--soak``: each point sends for this long once its load has filled, cut into windows of the soak's length
    soak: SoakSpec | None = None


@dataclass(frozen=True)
class LoadPoint:
    """One point of a sweep: request rate (``inf``: all at once) and concurrency cap."""

    rate: float = math.inf
    max_concurrency: int | None = None

    @property
    def label(self) -> str:
        """``rate=R,concurrency=C`` (the marker prefix and the table's row name)."""
        return f"rate={self.rate:g},concurrency={self.max_concurrency or 'none'}"

    @property
    def closed_target(self) -> int | None:
        """C when the load is a closed loop (all released at once, C in flight), else None."""
        return self.max_concurrency if self.max_concurrency and math.isinf(self.rate) else None


@dataclass
class Setup:
    """The server, the client and the prompts of a sweep."""

    server: ServerInfo
    probe: Probe
    client: OpenAIClient
    prompts: list[ds.Prompt]
    warmup: list[ds.Prompt]
    dataset: str


@dataclass
class Timeline:
    """The point's markers (``time.monotonic()`` s): run start, warm-up end, slice boundaries, run end.

    ``slices`` are (marker name relative to the point's prefix, time), from ``steady/start`` to
    ``steady/end``: the run record's measured windows lie between consecutive ones.
    """

    prefix: str
    start: float
    warmup_end: float | None = None
    slices: list[Boundary] = field(default_factory=list)
    end: float = 0.0


@dataclass
class ServeMeasurement:
    """Everything one load point measured (see :mod:`bench.serve.record.runrecord` for the run record)."""

    point: LoadPoint
    settings: ServeSettings
    setup: Setup
    load: LoadResult
    metrics: ServeMetrics
    window: SteadyWindow
    energy: ServeEnergy | None
    timeline: Timeline
    warmup_failed: int = 0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[RequestRecord]:
        """Every measured request, in dataset order."""
        return self.load.records


async def prepare(settings: ServeSettings, http: aiohttp.ClientSession) -> Setup:
    """Discover the server, probe it and make the prompts.

    Raises:
        UsageError: bad input or a server that cannot be benchmarked (one line, exit 2).
    """

    base = normalize_base_url(settings.base_url)
    spec = ds.parse_spec(settings.dataset)
    chat = settings.endpoint == "chat"
    prompts_file = None if isinstance(spec, ds.RandomSpec) else ds.load_jsonl(spec, chat=chat, limit=settings.num_prompts)
    counter = load_counter(settings.tokenizer) if settings.tokenizer else None
    server = await discover(http, base, settings.model, settings.limits)
    client = OpenAIClient(server.url(settings.endpoint), server.model, chat=chat, extra=server.extra_fields,
                          counter=counter, limits=settings.limits, per_event=settings.per_event)
    found = await probe(http, client, settings.seed)
    if not found.usage and counter is None:
        raise UsageError(f"{client.url}: the server's streams carry no token usage (stream_options.include_usage); "
                         "pass --tokenizer DIR (the model's tokenizer) to count tokens locally")
    if isinstance(spec, ds.RandomSpec):
        prompts = ds.random_prompts(spec, settings.num_prompts or 1000, settings.seed, found.words_for)
        warm = ds.random_prompts(spec, settings.warmup, settings.seed, found.words_for, first_index=10**9)
        desc = f"random: ~{spec.input_tokens} input tokens ({found.words_for(spec.input_tokens)} words), " \
               f"{spec.output_tokens} output tokens cap"
    else:
        assert prompts_file is not None
        prompts = prompts_file
        cap = int(statistics.median(p.max_tokens for p in prompts))
        warm = [ds.Prompt(cap, prompt=ds.random_text(WARMUP_WORDS, settings.seed, 10**9 + i)) for i in range(settings.warmup)]
        desc = f"{spec}: {len(prompts)} prompts"
    return Setup(server, found, client, prompts, warm, desc)


def _marker(sampler: Sampler | None, prefix: str) -> Callable[[str], float]:
    if sampler is None:
        return lambda phase: time.monotonic()
    return lambda phase: sampler.mark(f"{prefix}/{phase}")


async def measure_point(setup: Setup, settings: ServeSettings, point: LoadPoint, *, sampler: Sampler | None = None,
                        progress: Callable[[RequestRecord], None] | None = None,
                        stop: asyncio.Event | None = None) -> ServeMeasurement:
    """Warm up, then run the load of ``point`` with markers on ``sampler``; never raises for server failures."""
    prefix = f"serve/{point.label}"
    mark = _marker(sampler, prefix)
    line = Timeline(prefix, mark("run/start"))
    warm_failed = 0
    if setup.warmup:
        warm = await run_load(setup.client, setup.warmup, max_concurrency=point.max_concurrency, seed=settings.seed,
                              stop=stop)
        warm_failed = sum(1 for r in warm.records if not r.ok)
        line.warmup_end = mark("warmup/end")
    soak = settings.soak
    ticker = Ticker(mark, soak.window_s if soak is not None else None)

    def edge(phase: str) -> float:
        t = mark(phase)
        if phase == START_PHASE:
            ticker.start(t)
        else:
            ticker.stop(join=False)
        return t

    if soak is None:
        tracker = SteadyTracker(len(setup.prompts), point.closed_target, edge)
        load = await run_load(setup.client, setup.prompts, rate=point.rate, burstiness=settings.burstiness,
                              max_concurrency=point.max_concurrency, seed=settings.seed, tracker=tracker,
                              progress=progress, stop=stop)
    else:
        tracker = SteadyTracker(sys.maxsize, point.closed_target, edge)
        seconds, began = soak.requested_s, time.monotonic()  # a load that never fills stops sending after as long
        load = await run_soak_load(
            setup.client, setup.prompts, lambda: (began if tracker.start is None else tracker.start) + seconds,
            rate=point.rate, burstiness=settings.burstiness, max_concurrency=point.max_concurrency, seed=settings.seed,
            tracker=tracker, progress=progress, stop=stop)
    interrupted = stop is not None and stop.is_set()
    if (interrupted or soak is not None) and tracker.start is not None and tracker.end is None:
        tracker.end = edge(END_PHASE)  # the window ends where the load was stopped (or a soak's queue ran dry)
    ticker.stop()
    line.end = mark("run/end")
    if tracker.start is not None and tracker.end is not None:
        start, end = (START_PHASE, tracker.start), (END_PHASE, tracker.end)
        line.slices = boundaries(start, end, ticker.ticks) if soak is None else \
            grid_boundaries(start, end, ticker.ticks, soak.windows)
    need = max((MIN_PERIODS * log.meter.update_period_s for log in sampler.logs.values()), default=0.0) if sampler else 0.0
    window = analyse(load.records, tracker.start, tracker.end, closed_target=point.closed_target, min_duration_s=need,
                     bounds=[t for _, t in line.slices] or None)
    notes = [f"{warm_failed} of {len(setup.warmup)} warm-up requests failed"] if warm_failed else []
    energy = None
    if sampler is not None and sampler.logs:
        if line.slices:
            names = [f"{prefix}/{name}" for name, _ in line.slices]
            block = power_block(sampler, line.start, list(zip(names, names[1:])), None,
                                (f"{prefix}/run/start", f"{prefix}/run/end"))
            energy = energy_per_token(block, window, ["interrupted: the load was stopped"] if interrupted else [])
        else:
            notes.append("no steady window: no energy per token")
    if sampler is not None:
        sampler.trim()  # this point's power block is built: memory holds one point at a time
    metrics = compute(load.records, load.duration, settings.goodput)
    return ServeMeasurement(point, settings, setup, load, metrics, window, energy, line, warm_failed, interrupted, notes)


async def _prepare(settings: ServeSettings) -> Setup:
    async with session(None) as http:
        return await prepare(settings, http)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` whose main task returns nothing: on Python 3.11 leaving ``asyncio.run``
    formats the main task (result included) for a SIGINT bookkeeping check, which costs a repr of
    every request record."""
    box: list[T] = []

    async def main() -> None:
        box.append(await coro)

    asyncio.run(main())
    return box[0]


def prepare_sync(settings: ServeSettings) -> Setup:
    """:func:`prepare` on a fresh event loop, with its own HTTP session."""
    return _run(_prepare(settings))


Progress = Callable[[LoadPoint, int], Callable[[RequestRecord], None] | None]
Hook = Callable[[LoadPoint], None]
Done = Callable[[ServeMeasurement], None]


async def measure_all(setup: Setup, settings: ServeSettings, points: list[LoadPoint], *,
                      sampler: Sampler | None = None, progress: Progress | None = None,
                      before: Hook | None = None, after: Done | None = None,
                      stop: asyncio.Event | None = None) -> list[ServeMeasurement]:
    """Measure every point in turn; ``before`` and ``after`` hear of each point as it starts and ends.

    When ``stop`` is set the point in progress ends ``interrupted`` and no further point starts.
    """
    out = []
    for point in points:
        if stop is not None and stop.is_set():
            break
        if before is not None:
            before(point)
        tick = progress(point, len(setup.prompts)) if progress else None
        m = await measure_point(setup, settings, point, sampler=sampler, progress=tick, stop=stop)
        out.append(m)
        if after is not None:
            after(m)
    return out


def measure_sync(setup: Setup, settings: ServeSettings, points: list[LoadPoint], *, sampler: Sampler | None = None,
                 progress: Progress | None = None) -> list[ServeMeasurement]:
    """:func:`measure_all` on a fresh event loop."""
    return _run(measure_all(setup, settings, points, sampler=sampler, progress=progress))


def run(settings: ServeSettings, points: list[LoadPoint], *, sampler: Sampler | None = None,
        progress: Progress | None = None) -> list[ServeMeasurement]:
    """Prepare, then measure every point."""
    return measure_sync(prepare_sync(settings), settings, points, sampler=sampler, progress=progress)
