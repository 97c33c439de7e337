"""The one background poller: readings with their times, failures as gaps, per-read timeout, deadline, clean stop.

Every wait here is on the poller's own events (an outcome recorded, the loop ended), with a generous
bound only so that a broken poller fails the test instead of hanging it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from bench.errors import MeterReadError
from bench.power.poller import Poller

WAIT_S = 60.0  # the bound on any wait: never reached unless the poller is broken


class Script:
    """A source whose calls follow ``steps`` (a value, or an exception to raise), then repeat the last."""

    def __init__(self, *steps: float | Exception) -> None:
        self.steps, self.calls = list(steps), 0

    def __call__(self) -> float:
        step = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        if isinstance(step, Exception):
            raise step
        return step


@pytest.fixture
def pollers() -> Iterator[Callable[..., Poller[float]]]:
    made: list[Poller[float]] = []

    def make(fn: Callable[[], float], period_s: float = 0.001, **kw: object) -> Poller[float]:
        made.append(Poller(fn, period_s, name="test-source", **kw))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for p in made:
        p.stop()


def test_every_outcome_is_kept_with_its_time_and_a_failure_is_a_gap(pollers: Callable[..., Poller[float]]) -> None:
    poller = pollers(Script(200.0, MeterReadError("pdu: no answer"), RuntimeError("IncompleteRead(12 bytes)"), 210.0))
    first = poller.poll_once()
    assert first.ok and first.value == 200.0
    gap = poller.poll_once()
    assert not gap.ok and gap.value is None and gap.error == "pdu: no answer"
    assert poller.latest() == gap and poller.last_ok() == first, "a gap never replaces the held value"
    odd = poller.poll_once()
    assert odd.error == "test-source: RuntimeError: IncompleteRead(12 bytes)", "an unexpected error is a gap too"
    assert poller.poll_once().value == 210.0
    history = poller.history()
    assert [h.value for h in history] == [200.0, None, None, 210.0]
    assert [h.t for h in history] == sorted(h.t for h in history)
    assert 0.0 not in [h.value for h in history]


def test_the_loop_keeps_polling_through_failures(pollers: Callable[..., Poller[float]]) -> None:
    source = Script(1.0, MeterReadError("down"), MeterReadError("down"), 2.0)
    poller = pollers(source)
    poller.start()
    assert poller.wait_for(lambda p: p.polls >= 5, WAIT_S)
    poller.stop()
    assert [h.error or h.value for h in poller.history()[:4]] == [1.0, "down", "down", 2.0]
    assert poller.last_ok() is not None and poller.last_ok().value == 2.0  # type: ignore[union-attr]


def test_a_read_that_hangs_is_a_gap_and_no_second_call_piles_up(pollers: Callable[..., Poller[float]]) -> None:
    gate, calls = threading.Event(), []

    def stuck() -> float:
        calls.append(1)
        assert gate.wait(WAIT_S), "released by the test"
        return 300.0

    poller = pollers(stuck, timeout_s=0.05)
    poller.start()
    assert poller.wait_for(lambda p: p.polls >= 3, WAIT_S)
    gaps = poller.history()[:3]
    assert all(g.error is not None and "test-source: no answer within 0.05 s" in g.error for g in gaps)
    assert any("has not returned" in (g.error or "") for g in gaps[1:])
    assert len(calls) == 1, "a call still in the device is never joined by another"
    gate.set()
    assert poller.wait_for(lambda p: p.last_ok() is not None, WAIT_S)
    assert poller.last_ok().value == 300.0  # type: ignore[union-attr]


def test_stop_ends_the_loop_cleanly(pollers: Callable[..., Poller[float]]) -> None:
    poller = pollers(Script(5.0))
    poller.start()
    assert poller.wait_for(lambda p: p.polls >= 1, WAIT_S)
    poller.stop(timeout=WAIT_S)
    assert poller.finished.is_set()
    done = poller.polls
    poller.start()  # a stopped poller does not start again
    assert poller.polls == done and poller.finished.is_set()


def test_stop_does_not_wait_for_a_read_stuck_in_the_device(pollers: Callable[..., Poller[float]]) -> None:
    gate, entered = threading.Event(), threading.Event()

    def stuck() -> float:
        entered.set()
        gate.wait(WAIT_S)
        return 1.0

    poller = pollers(stuck, timeout_s=WAIT_S)
    poller.start()
    assert entered.wait(WAIT_S)
    poller.stop(timeout=WAIT_S)  # the loop waits on the call and on its stop event: the stop wins
    gate.set()
    assert poller.finished.is_set()


def test_the_total_deadline_ends_polling_by_itself(pollers: Callable[..., Poller[float]]) -> None:
    poller = pollers(Script(7.0), period_s=0.01, deadline_s=0.2)
    poller.start()
    assert poller.finished.wait(WAIT_S), "the poller stopped on its own"
    last = poller.latest()
    assert last is not None and last.error == "test-source: polling ended, its deadline of 0.2 s passed"
    assert poller.last_ok() is not None and poller.last_ok().value == 7.0  # type: ignore[union-attr]


def test_history_can_be_bounded(pollers: Callable[..., Poller[float]]) -> None:
    poller = pollers(Script(1.0, 2.0, 3.0), keep=2)
    for _ in range(3):
        poller.poll_once()
    assert [h.value for h in poller.history()] == [2.0, 3.0] and poller.polls == 3
    with pytest.raises(ValueError, match="period_s must be positive"):
        Poller(Script(1.0), 0.0, name="bad")
