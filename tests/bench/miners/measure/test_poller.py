"""The poller's turns (at most ``max_in_flight`` polls open, a wait spent out of the poll's budget), its batches,
and the event loop it runs on (uvloop where installed, asyncio's on request): every tick still leaves one sample."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from bench.miners.measure import eventloop
from bench.miners.measure.poller import BATCH, Poller, slot_count
from bench.miners.protocol.client import identify
from bench.miners.protocol.model import Identity, Poll, PollFailure
from bench.testing.miners import SimFleet, SimMiner

Fleet = Callable[..., SimFleet]


@dataclass
class FakeClient:
    """What the poller asks of a client: its identity, its timeout and one poll; polls open are counted."""

    host: str
    open: list[int]
    hold_s: float = 0.02
    timeout_s: float = 5.0
    budgets: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.identity = Identity(self.host, 4028, "cgminer", "antminer", "Bitmain", "Antminer S19 Pro", "test")

    async def poll(self, budget_s: float | None = None) -> Poll:
        self.budgets.append(budget_s or 0.0)
        self.open[0] += 1
        self.open[1] = max(self.open[1], self.open[0])
        try:
            await asyncio.sleep(self.hold_s)
        finally:
            self.open[0] -= 1
        return Poll(time.monotonic(), time.time(), self.identity, None, None)


def test_at_most_max_in_flight_polls_are_open_and_every_tick_leaves_a_sample() -> None:
    open_now = [0, 0]  # now, most
    clients = [FakeClient(f"10.0.0.{i}", open_now) for i in range(20)]
    poller = Poller(clients, period_s=1.0, slots=1, max_in_flight=3)  # type: ignore[arg-type]
    stats = asyncio.run(poller.run(ticks=2))
    assert open_now[1] == 3, "all 20 are due at once: three at a time"
    assert stats.ok == 40 and stats.failed == 0
    assert all(len(s) == 2 and all(isinstance(x, Poll) for x in s) for s in poller.samples.values())
    waited = [c.budgets[0] for c in clients]
    assert max(waited) == pytest.approx(0.9) and min(waited) < 0.9 - 0.02, "one that waited for its turn has less budget left"


def test_a_poll_that_gets_no_turn_within_its_budget_is_a_failure_with_the_reason() -> None:
    open_now = [0, 0]
    stuck = FakeClient("10.0.1.1", open_now, hold_s=1.0)  # ignores its budget: holds the one turn past it
    waiting = FakeClient("10.0.1.2", open_now)
    poller = Poller([stuck, waiting], period_s=0.5, slots=1, max_in_flight=1)  # type: ignore[list-item]
    stats = asyncio.run(poller.run(ticks=1))
    assert stats.ok == 1 and stats.failed == 1
    (failure,) = poller.samples[waiting.identity.address]
    assert isinstance(failure, PollFailure) and failure.reason == "no turn within 0.45 s (1 polls open, the most at once)"
    assert waiting.budgets == []


def test_slots_batch_the_fleet() -> None:
    assert slot_count(3, None) == 10 and slot_count(1000, None) == 16
    assert slot_count(10_000, None) == -(-10_000 // BATCH) == 157
    assert slot_count(10_000, 4) == 4 and slot_count(5, 0) == 1


def test_uvloop_where_installed_unless_asked_for_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    uvloop = pytest.importorskip("uvloop", reason="the fast extra (uvloop) is not installed")

    async def kind() -> str:
        return type(asyncio.get_running_loop()).__module__.split(".")[0]

    monkeypatch.delenv(eventloop.LOOP_ENV, raising=False)
    assert eventloop.name() == "uvloop" and eventloop.run(kind()) == uvloop.__name__
    monkeypatch.setenv(eventloop.LOOP_ENV, "asyncio")
    assert eventloop.name() == "asyncio" and eventloop.run(kind()) == "asyncio"


def test_open_files_raises_the_soft_limit_within_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, soft), hard))
        want = 512 if hard == resource.RLIM_INFINITY else min(512, hard)
        assert eventloop.open_files(512) == want == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_every_tick_leaves_one_sample_on_either_loop(fleet: Fleet, loop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop", reason="the fast extra (uvloop) is not installed")
    monkeypatch.setenv(eventloop.LOOP_ENV, loop)
    miners = [SimMiner("127.0.0.91"), SimMiner("127.0.0.92"), SimMiner("127.0.0.93")]
    f = fleet(*miners)

    async def run() -> Poller:
        clients = [await identify(m.host, timeout_s=1.0) for m in miners]
        f.set_mode("127.0.0.92", "hang")
        f.set_mode("127.0.0.93", "refuse")
        poller = Poller(clients, period_s=0.5)
        await poller.run(ticks=4)
        return poller

    poller = eventloop.run(run())
    assert [len(s) for s in poller.samples.values()] == [4, 4, 4] and poller.stats.late == 0
    assert all(isinstance(s, Poll) for s in poller.samples["127.0.0.91:4028"])
    assert all(isinstance(s, PollFailure) and "no answer within 0.45 s" in s.reason for s in poller.samples["127.0.0.92:4028"])
    assert all(isinstance(s, PollFailure) and "refused" in s.reason for s in poller.samples["127.0.0.93:4028"])


def test_fewer_collections_while_polling_and_the_thresholds_put_back() -> None:
    import gc

    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []

    class Watching(FakeClient):
        async def poll(self, budget_s: float | None = None) -> Poll:
            seen.append(gc.get_threshold())
            return await super().poll(budget_s)

    poller = Poller([Watching("10.0.2.1", [0, 0])], period_s=0.2)  # type: ignore[list-item]
    asyncio.run(poller.run(ticks=2))
    assert seen == [(max(eventloop.GC_THRESHOLD, before[0]), *before[1:])] * 2
    assert gc.get_threshold() == before


def test_completion_is_handed_on_a_slice_at_a_time_with_the_loop_turning_between(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.miners.measure import outcome

    clients = [FakeClient(f"10.0.3.{i}", [0, 0], hold_s=0.0) for i in range(100)]
    monkeypatch.setattr(outcome, "valid_windows", lambda samples, plan, identity=None: [None] * plan.repeats if samples else [])
    told: list[int] = []
    turns = [0]

    def on_tick(done: set[str], samples: object) -> None:
        told.append(len(done))

    async def go() -> None:
        async def spin() -> None:
            while True:
                turns[0] += 1
                await asyncio.sleep(0)

        spinner = asyncio.create_task(spin())
        plan = outcome.Plan(period_s=0.05, warmup_s=0.0, window_s=0.2, repeats=1, span_s=0.1)
        await outcome.measure(clients, plan, on_tick=on_tick)  # type: ignore[arg-type]
        spinner.cancel()

    monkeypatch.setattr(outcome, "analyse", lambda identity, samples, plan: None)
    asyncio.run(go())
    assert told == [32, 64, 96, 100] and turns[0] >= len(told)


def test_a_retired_miner_is_polled_no_more_and_the_others_go_on() -> None:
    open_now = [0, 0]
    a, b = FakeClient("10.0.4.1", open_now, hold_s=0.0), FakeClient("10.0.4.2", open_now, hold_s=0.0)
    poller = Poller([a, b], period_s=0.1, slots=1)  # type: ignore[list-item]

    async def go() -> None:
        task = asyncio.create_task(poller.run(ticks=6))
        while len(poller.samples[a.identity.address]) < 2:
            await asyncio.sleep(0.01)
        poller.retire(a.identity.address)
        await task

    asyncio.run(go())
    assert len(poller.samples[a.identity.address]) in (2, 3)  # the poll in flight when retired, if any, ends
    assert len(poller.samples[b.identity.address]) == 6
