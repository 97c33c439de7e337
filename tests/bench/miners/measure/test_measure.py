"""Polling and measuring simulated miners over TCP: no lost samples, throughput from the counter,
a reboot as a gap, verification against pool shares, power labelled by where it came from."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bench.miners.measure.outcome import Plan, measure
from bench.miners.measure.poller import Poller
from bench.miners.protocol.client import identify
from bench.miners.protocol.model import Poll, PollFailure
from bench.testing.miners import SimFleet, SimMiner

Fleet = Callable[..., SimFleet]


def test_every_tick_of_every_miner_leaves_one_sample(fleet: Fleet) -> None:
    miners = [SimMiner("127.0.0.81"), SimMiner("127.0.0.82"), SimMiner("127.0.0.83")]
    f = fleet(*miners)

    async def run() -> Poller:
        clients = [await identify(m.host, timeout_s=1.0) for m in miners]
        f.set_mode("127.0.0.82", "hang")
        f.set_mode("127.0.0.83", "refuse")
        poller = Poller(clients, period_s=0.5)  # a tick is late after a whole period: room for a loaded machine
        await poller.run(ticks=6)
        return poller

    poller = asyncio.run(run())
    assert poller.stats.expected == 18 and poller.stats.late == 0
    assert [len(s) for s in poller.samples.values()] == [6, 6, 6]
    assert all(isinstance(s, Poll) for s in poller.samples["127.0.0.81:4028"])
    assert all(isinstance(s, PollFailure) and "no answer within 0.45 s" in s.reason for s in poller.samples["127.0.0.82:4028"])
    assert all(isinstance(s, PollFailure) and "refused" in s.reason for s in poller.samples["127.0.0.83:4028"])


def run_measure(miners: list[SimMiner], plan: Plan, during: Callable[[], Awaitable[object]] | None = None):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        clients = [await identify(m.host, timeout_s=1.0) for m in miners]
        task = asyncio.create_task(measure(clients, plan))
        if during is not None:
            await during()
        return await task
    return asyncio.run(go())


def test_throughput_from_the_counter_within_1_percent_and_verified_by_the_pool(fleet: Fleet) -> None:
    miners = [SimMiner("127.0.0.84", difficulty=64, seed=1),
              SimMiner("127.0.0.85", family="whatsminer", model="Whatsminer M50.VH50", difficulty=64, seed=2,
                       power_w=3300.0, messy=True)]
    fleet(*miners)
    results, stats = run_measure(miners, Plan(period_s=0.25, warmup_s=10, window_s=3.0, repeats=2, span_s=1.5))
    assert stats.late == 0
    stock, whats = results
    for m in results:
        assert len(m.valid_windows) == 2 and m.verified, m.verify_reasons
        for w in m.valid_windows:
            assert w.throughput_hs == pytest.approx(110e12, rel=0.01)
    assert stock.power_source == "modelled_nameplate" and stock.window_power_w[0] == pytest.approx(
        3250 / 110 * stock.windows[0].throughput_hs / 1e12)  # type: ignore[operator]
    # the firmware's constant 3300 W, as a time-weighted mean over the polls: equal, not bit for bit
    assert whats.power_source == "firmware_estimate" and whats.window_power_w == pytest.approx([3300.0, 3300.0], rel=1e-9)
    assert whats.warmups[0].method == "firmware flag" and stock.warmups[0].method == "slope test"
    telemetry = stock.telemetry()
    assert telemetry["board1_chips"][0][1] == 114 and "fan0_rpm" in telemetry and "power_w_firmware" in whats.telemetry()


def test_a_reboot_mid_run_is_a_gap_and_measuring_goes_on(fleet: Fleet) -> None:
    miner = SimMiner("127.0.0.86", difficulty=64, seed=3)
    fleet(miner)

    async def reboot() -> None:
        await asyncio.sleep(3.2)
        miner.reboot()

    plan = Plan(period_s=0.25, warmup_s=10, window_s=2.0, repeats=2, span_s=1.0)
    (m,), _ = run_measure([miner], plan, during=reboot)
    assert len(m.breaks) == 1 and "miner restarted" in m.breaks[0][1]
    assert all(w.throughput_hs is None or w.throughput_hs > 0 for w in m.windows), "never a negative rate"
    assert len(m.warmups) == 2, "warm-up again after the restart"
    assert len(m.valid_windows) == 2 and all(w.throughput_hs == pytest.approx(110e12, rel=0.01) for w in m.valid_windows)


def test_missing_chips_a_hung_api_and_a_coarse_v3_counter(fleet: Fleet) -> None:
    chips = SimMiner("127.0.0.87", family="whatsminer", model="Whatsminer M50.VH50", chips_expected=105, difficulty=64,
                     missing=[0, 20, 0], seed=4)
    v3 = SimMiner("127.0.0.88", family="whatsminer-v3", model="Whatsminer M60 VK30")
    f = fleet(chips, v3)

    async def hang_a_while() -> None:
        await asyncio.sleep(0.5)
        f.set_mode(chips.host, "hang")
        await asyncio.sleep(1.0)
        f.set_mode(chips.host, "ok")

    plan = Plan(period_s=0.25, warmup_s=1.0, window_s=2.0, repeats=1, span_s=1.0)
    (c, w3), stats = run_measure([chips, v3], plan, during=hang_a_while)
    fails = [s for s in c.samples if isinstance(s, PollFailure)]
    assert fails and all("no answer within" in s.reason for s in fails) and stats.late == 0
    assert [b.chips_missing for b in [s for s in c.samples if isinstance(s, Poll)][-1].boards] == [0, 20, 0]
    assert c.telemetry()["board1_chips"][0][1] == 85 and c.valid_windows, "a hung API is a gap in the polls only"
    assert w3.windows and not w3.valid_windows and not w3.verified
    assert "counter resolution (hash-average x elapsed)" in w3.windows[0].invalid_reasons[0]
