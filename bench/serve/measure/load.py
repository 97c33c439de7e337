"""The load generator: arrivals at a request rate with burstiness, under a concurrency cap.

As vLLM's ``bench serve``: with ``--request-rate inf`` every request is released at once;
otherwise the gaps between releases are gamma-distributed with shape ``burstiness`` and mean
``1 / rate`` (``burstiness`` 1 is a Poisson process, lower is burstier, higher more regular),
drawn in advance from ``seed`` and scaled so the last release falls at ``N / rate``. A released
request waits for one of ``--max-concurrency`` slots (an asyncio semaphore) before it is sent;
the wait is its client queue time (sent - released), outside TTFT and latency.

A soak (:func:`run_soak_load`) sends for a time instead of a number of requests: the prompts over and over,
a new request as soon as a slot frees (closed loop) or at gamma-distributed gaps (a finite rate), until
its deadline; then the tracker hears that nothing more will be sent.

A ``stop`` event (a stop signal, Ctrl-C) ends the load early: requests in flight are cancelled
and, like those never sent, recorded as failed (``interrupted``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import numpy as np

from bench.serve.measure.steady import SteadyTracker
from bench.serve.protocol.client import OpenAIClient
from bench.serve.protocol.dataset import Prompt
from bench.serve.protocol.records import RequestRecord


def release_offsets(count: int, rate: float, burstiness: float, seed: int) -> list[float]:
    """Seconds from the start at which each of ``count`` requests is released."""
    if math.isinf(rate):
        return [0.0] * count
    rng = np.random.default_rng(seed)
    if math.isinf(burstiness):
        gaps = np.full(count, 1.0 / rate)
    else:
        gaps = rng.gamma(shape=burstiness, scale=1.0 / (rate * burstiness), size=count)
    offsets = np.cumsum(gaps)
    if offsets[-1] > 0:
        offsets *= (count / rate) / offsets[-1]
    return [float(x) for x in offsets]


@dataclass
class LoadResult:
    """Every request's record (in dataset order) and the span of the load (monotonic s)."""

    records: list[RequestRecord]
    started: float
    finished: float

    @property
    def duration(self) -> float:
        """From the first release to the end of the last response, in s (vLLM's benchmark duration)."""
        return self.finished - self.started


def session(max_concurrency: int | None) -> aiohttp.ClientSession:
    """An HTTP session with as many connections as the load may hold open (no cap by default)."""
    connector = aiohttp.TCPConnector(limit=max_concurrency or 0, limit_per_host=max_concurrency or 0,
                                     keepalive_timeout=60, enable_cleanup_closed=True)
    return aiohttp.ClientSession(connector=connector)


INTERRUPTED = "interrupted"


async def _pause(seconds: float, stop: asyncio.Event | None) -> None:
    """Sleep ``seconds``, or less when ``stop`` is set meanwhile."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _cancel_on(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    await stop.wait()
    for task in tasks:
        task.cancel()


async def run_load(client: OpenAIClient, prompts: list[Prompt], *, rate: float = math.inf,
                   burstiness: float = 1.0, max_concurrency: int | None = None, seed: int = 0,
                   tracker: SteadyTracker | None = None,
                   progress: Callable[[RequestRecord], None] | None = None,
                   stop: asyncio.Event | None = None) -> LoadResult:
    """Send every prompt as the arrival process releases it and wait for all the answers.

    Failures of the server or network become failed records; nothing raises for them. When
    ``stop`` is set, the requests in flight are cancelled and the rest never sent: all of them
    failed records of class ``interrupted``.
    """
    offsets = release_offsets(len(prompts), rate, burstiness, seed)
    slots = asyncio.Semaphore(max_concurrency) if max_concurrency else None
    first = tracker.first_token if tracker else None
    records = [RequestRecord(i) for i in range(len(prompts))]

    async def one(prompt: Prompt, rec: RequestRecord) -> None:
        try:
            if slots is not None:
                async with slots:
                    await send(prompt, rec)
            else:
                await send(prompt, rec)
        except asyncio.CancelledError:  # only _cancel_on cancels these tasks
            rec.fail(INTERRUPTED, "interrupted before it ended (stop signal)", time.monotonic())
            return
        if progress:
            progress(rec)

    async def send(prompt: Prompt, rec: RequestRecord) -> None:
        rec.dispatched = time.monotonic()
        if tracker:
            tracker.sent(rec)
        await client.send(http, prompt, rec, first)
        if tracker:
            tracker.finished(rec)

    async with session(max_concurrency) as http:
        tasks: list[asyncio.Task[None]] = []
        started = time.monotonic()
        watch = asyncio.create_task(_cancel_on(stop, tasks)) if stop is not None else None
        for prompt, rec, offset in zip(prompts, records, offsets):
            delay = started + offset - time.monotonic()
            if delay > 0:
                await _pause(delay, stop)
            if stop is not None and stop.is_set():
                break
            rec.arrival = time.monotonic()
            tasks.append(asyncio.create_task(one(prompt, rec)))
        await asyncio.gather(*tasks)
        finished = time.monotonic()
        if watch is not None:
            watch.cancel()
    for rec in records[len(tasks):]:
        rec.fail(INTERRUPTED, "never sent: the load was stopped", finished)
        rec.arrival = rec.dispatched = finished
    return LoadResult(records, started, finished)


async def run_soak_load(client: OpenAIClient, prompts: list[Prompt], deadline: Callable[[], float], *,
                        rate: float = math.inf, burstiness: float = 1.0, max_concurrency: int | None = None,
                        seed: int = 0, tracker: SteadyTracker | None = None,
                        progress: Callable[[RequestRecord], None] | None = None,
                        stop: asyncio.Event | None = None) -> LoadResult:
    """Send ``prompts`` over and over until ``deadline()`` (monotonic s; it may move, e.g. once the load has
    filled), then wait for the answers; as :func:`run_load` otherwise. A closed loop (``rate`` inf) needs
    ``max_concurrency``: a new request goes out as soon as one of its slots frees."""
    if math.isinf(rate) and not max_concurrency:
        raise ValueError("a soak at an infinite rate needs a concurrency cap")
    rng = np.random.default_rng(seed)
    slots = asyncio.Semaphore(max_concurrency) if max_concurrency else None
    first = tracker.first_token if tracker else None
    records: list[RequestRecord] = []
    pending: set[asyncio.Task[None]] = set()

    async def one(prompt: Prompt, rec: RequestRecord, held: bool) -> None:
        try:
            if slots is not None and not held:
                async with slots:
                    await send(prompt, rec)
            else:
                await send(prompt, rec)
        except asyncio.CancelledError:
            rec.fail(INTERRUPTED, "interrupted before it ended (stop signal)", time.monotonic())
            return
        finally:
            if held and slots is not None:
                slots.release()
        if progress:
            progress(rec)

    async def send(prompt: Prompt, rec: RequestRecord) -> None:
        rec.dispatched = time.monotonic()
        if tracker:
            tracker.sent(rec)
        await client.send(http, prompt, rec, first)
        if tracker:
            tracker.finished(rec)

    def stopped() -> bool:
        return stop is not None and stop.is_set()

    async def cancel_on_stop(event: asyncio.Event) -> None:
        await event.wait()
        for task in list(pending):
            task.cancel()

    async with session(max_concurrency) as http:
        started = next_t = time.monotonic()
        watch = asyncio.create_task(cancel_on_stop(stop)) if stop is not None else None
        while not stopped() and time.monotonic() < deadline():
            held = False
            if math.isinf(rate):
                assert slots is not None
                try:
                    await asyncio.wait_for(slots.acquire(), timeout=max(0.0, min(1.0, deadline() - time.monotonic())))
                except asyncio.TimeoutError:
                    continue
                held = True
                if stopped() or time.monotonic() >= deadline():
                    slots.release()
                    break
            else:
                gap = 1.0 / rate if math.isinf(burstiness) else float(rng.gamma(burstiness, 1.0 / (rate * burstiness)))
                next_t += gap
                await _pause(max(0.0, min(next_t, deadline()) - time.monotonic()), stop)
                if stopped() or time.monotonic() >= deadline():
                    break
            rec = RequestRecord(len(records))
            rec.arrival = time.monotonic()
            records.append(rec)
            task = asyncio.create_task(one(prompts[rec.index % len(prompts)], rec, held))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if tracker:
            tracker.close()
        await asyncio.gather(*list(pending))
        finished = time.monotonic()
        if watch is not None:
            watch.cancel()
    return LoadResult(records, started, finished)
