"""Simulated miners on loopback addresses for the miners tests (started per test, stopped after)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bench.testing.miners import SimFleet, SimMiner


@pytest.fixture
def fleet() -> Iterator[Callable[..., SimFleet]]:
    """``fleet(miner, ...)`` serves the miners (real TCP on their 127.0.0.x addresses) until the test ends."""
    started: list[SimFleet] = []

    def start(*miners: SimMiner) -> SimFleet:
        f = SimFleet(list(miners)).__enter__()
        started.append(f)
        return f

    yield start
    for f in started:
        f.__exit__(None, None, None)
