"""Polling many miners on a fixed schedule, every tick accounted for.

Miner ``i`` is polled at ``t0 + (i mod slots)/slots x spread x period + k x period`` (k = 0,
1, ...): the fleet's polls go out in ``slots`` batches of about :data:`BATCH` miners spread over
the period (one batch at once would be a burst on the LAN and on this process; a separate instant
per miner costs the event loop a wake-up per poll), and the schedule never drifts. At most
``max_in_flight`` polls are open at once (:data:`MAX_IN_FLIGHT`, one connection each; the soft
limit of open files is raised to match): a poll waiting for its turn spends its own budget waiting.
A poll gets at most ``0.9 x period`` (or the client's own timeout
if shorter), so it ends before the same miner's next tick; whatever happens, tick ``k``
of every miner leaves exactly one sample: a :class:`Poll`, or a :class:`PollFailure`
with the reason. A tick the event loop could not start in time (it fell a whole period
behind) is recorded as a failure too and counted in :attr:`PollStats.late`; nothing is
silently dropped.

The CPU a poll costs is mostly the event loop's and the kernel's (a TCP connection per poll):
run the poller on :func:`bench.miners.measure.eventloop.run` (uvloop where installed). While it polls,
the garbage collector's youngest generation is collected less often
(:func:`bench.miners.measure.eventloop.fewer_collections`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.miners.measure.eventloop import fewer_collections, open_files
from bench.miners.protocol.client import MinerClient
from bench.miners.protocol.model import PollFailure, Sample
from bench.miners.protocol.parse import MinerError

#: A poll must end within this fraction of the period.
POLL_BUDGET = 0.9
#: Miners polled at the same instant, about (the fleet is spread over ``ceil(miners / BATCH)`` instants, 10 at least).
BATCH = 64
#: Polls (connections) open at once, at most, by default.
MAX_IN_FLIGHT = 1024
#: File descriptors kept for everything else (journals, meters, the result file).
SPARE_FILES = 256


def slot_count(miners: int, slots: int | None) -> int:
    """The instants a period's polls go out at: ``slots`` when given (1 at least), else about :data:`BATCH`
    miners each (10 at least)."""
    return max(slots, 1) if slots is not None else max(-(-miners // BATCH), 10)


@dataclass
class PollStats:
    """What a polling run did: ticks per miner, and how they ended."""

    ticks: int = 0
    ok: int = 0
    failed: int = 0
    late: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    max_lag_s: float = 0.0

    @property
    def expected(self) -> int:
        """Samples the schedule owed (ok + failed, late included in failed)."""
        return self.ok + self.failed

    @property
    def cpu_fraction(self) -> float:
        """CPU time of this process over wall time (1.0 = one core busy)."""
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


@dataclass
class Poller:
    """Polls ``clients`` every ``period_s``; samples per miner (``host:port``) in :attr:`samples`.

    Args:
        on_sample: called with (``host:port``, tick, sample) as each sample arrives (a journal).
        spread: fraction of the period the fleet's polls are spread over.
        slots: batches the fleet's polls go out in within each period (None: ``ceil(miners / BATCH)``, 10 at least).
        max_in_flight: polls open at once, at most (fewer where the open-files limit cannot be raised).
    """

    clients: list[MinerClient]
    period_s: float
    on_sample: Callable[[str, int, Sample], None] | None = None
    spread: float = 0.8
    slots: int | None = None
    max_in_flight: int = MAX_IN_FLIGHT
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    stats: PollStats = field(default_factory=PollStats)

    def __post_init__(self) -> None:
        self._stop = asyncio.Event()
        self._sleeping: set[str] = set()
        self._retired: set[str] = set()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._turns: asyncio.Semaphore | None = None
        self._turn_count = self.max_in_flight
        for c in self.clients:
            self.samples.setdefault(c.identity.address, [])

    def stop(self) -> None:
        """End now for miners waiting for their next tick, after the poll in flight for the others
        (call from the loop's thread): no sample is cut short."""
        self._stop.set()
        for host in list(self._sleeping):
            self._tasks[host].cancel()

    def retire(self, address: str) -> None:
        """Poll miner ``address`` (``host:port``) no more: now when it waits for its next tick, else after the poll in
        flight (call from the loop's thread). Its samples so far stay; the others are polled on."""
        self._retired.add(address)
        if address in self._sleeping:
            self._tasks[address].cancel()

    def _record(self, host: str, tick: int, sample: Sample) -> None:
        self.samples[host].append(sample)
        if isinstance(sample, PollFailure):
            self.stats.failed += 1
        else:
            self.stats.ok += 1
        if self.on_sample:
            self.on_sample(host, tick, sample)

    async def _one(self, client: MinerClient, offset: float, t0: float, ticks: int | None) -> None:
        loop, host = asyncio.get_running_loop(), client.identity.address
        budget = min(client.timeout_s, POLL_BUDGET * self.period_s)
        k = 0
        while (ticks is None or k < ticks) and not self._stop.is_set() and host not in self._retired:
            due = t0 + offset + k * self.period_s
            delay = due - loop.time()
            if delay > 0:
                self._sleeping.add(host)
                try:
                    await asyncio.sleep(delay)
                except asyncio.CancelledError:
                    break  # stop() or retire() while waiting for the next tick
                finally:
                    self._sleeping.discard(host)
                if self._stop.is_set() or host in self._retired:
                    break
            lag = loop.time() - due
            self.stats.max_lag_s = max(self.stats.max_lag_s, lag)
            if lag > self.period_s:
                self.stats.late += 1
                self._record(host, k, PollFailure(time.monotonic(), time.time(), host,
                                                  f"poller fell {lag:.1f} s behind its schedule"))
                k += 1
                continue
            self._record(host, k, await self._poll(client, budget))
            k += 1

    async def _poll(self, client: MinerClient, budget: float) -> Sample:
        """One poll in its turn (at most ``max_in_flight`` open), within ``budget`` seconds in all."""
        turns = self._turns
        assert turns is not None
        if turns.locked():  # every turn taken: wait for one, out of this poll's budget
            loop = asyncio.get_running_loop()
            start = loop.time()
            try:
                await asyncio.wait_for(turns.acquire(), budget)
            except (asyncio.TimeoutError, TimeoutError):
                return PollFailure(time.monotonic(), time.time(), client.identity.address,
                                   f"no turn within {budget:.3g} s ({self._turn_count} polls open, the most at once)")
            budget -= loop.time() - start
        else:
            await turns.acquire()
        try:
            return await client.poll(budget)
        except MinerError as exc:
            return PollFailure(time.monotonic(), time.time(), client.identity.address, str(exc))
        finally:
            turns.release()

    async def run(self, ticks: int | None = None) -> PollStats:
        """Poll until :meth:`stop` (or ``ticks`` ticks per miner); returns the stats."""
        loop = asyncio.get_running_loop()
        t0, wall0, cpu0 = loop.time(), time.monotonic(), time.process_time()
        slots = slot_count(len(self.clients), self.slots)
        files = open_files(min(self.max_in_flight, len(self.clients)) + SPARE_FILES)
        self._turn_count = max(1, min(self.max_in_flight, files - SPARE_FILES))
        self._turns = asyncio.Semaphore(self._turn_count)
        self._tasks = {c.identity.address: asyncio.create_task(
            self._one(c, (i % slots) / slots * self.spread * self.period_s, t0, ticks))
            for i, c in enumerate(self.clients)}
        with fewer_collections():
            await asyncio.gather(*self._tasks.values())
        self.stats.ticks = max((len(s) for s in self.samples.values()), default=0)
        self.stats.seconds = time.monotonic() - wall0
        self.stats.cpu_seconds = time.process_time() - cpu0
        return self.stats
