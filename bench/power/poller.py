"""One background poller: calls a function on a fixed period and keeps every outcome with its time.

Slow sources (a BMC over the network, ``ipmitool``, a Prometheus page, a PDU over SNMP) are
polled here, in a daemon thread, so that whoever reads them (the sampler, under its lock) gets
the latest figure at once. Each call's outcome is kept with its ``time.monotonic()``: a value,
or a failure with its reason, which is a gap, never a silent 0.

- **per-read timeout**: with ``timeout_s``, each call runs in its own daemon thread and the
  poller waits for it that long; a call that does not return is recorded as a gap
  (``no answer within ...``) and no new call starts until it returns (its late result is
  dropped: it belongs to no tick).
- **total deadline**: with ``deadline_s``, the poller stops by itself that long after it
  started, recording why.
- **clean stop**: :meth:`Poller.stop` ends the loop and waits for it (a call stuck in a
  device is left to its daemon thread).

Tests and callers wait on events, not clocks: :meth:`Poller.wait_for` wakes on every outcome.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bench.errors import MeterReadError

T = TypeVar("T")


@dataclass(frozen=True)
class Polled(Generic[T]):
    """One call's outcome: ``value`` when it succeeded, else ``error`` (the gap's reason)."""

    t: float
    value: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Call(Generic[T]):
    """One call of the polled function in its own daemon thread."""

    def __init__(self, fn: Callable[[], T], name: str, describe: Callable[[BaseException], str]) -> None:
        self.started = time.monotonic()
        self.done = threading.Event()  # the call returned
        self.wake = threading.Event()  # the call returned, or the poller is stopping
        self.outcome: Polled[T] | None = None
        self._fn, self._describe, self._name = fn, describe, name

    def start(self) -> None:
        threading.Thread(target=self._run, name=self._name, daemon=True).start()

    def _run(self) -> None:
        try:
            value = self._fn()
            self.outcome = Polled(time.monotonic(), value=value)
        except Exception as exc:  # noqa: BLE001 - any failure of a source is a gap, never the end of polling
            self.outcome = Polled(time.monotonic(), error=self._describe(exc))
        self.done.set()
        self.wake.set()


class Poller(Generic[T]):
    """Polls ``fn`` every ``period_s`` in a daemon thread (started by :meth:`start`).

    Args:
        fn: takes one reading; raises (preferably :class:`~bench.errors.MeterReadError`) when it fails.
        period_s: seconds between the starts of two calls; a call that overruns skips the ticks it
            covered (no burst to catch up). Read each cycle, so it may be changed before :meth:`start`.
        name: names the thread and starts the reason of an unexpected exception.
        timeout_s: per call; None runs ``fn`` in the loop thread and trusts it to return.
        deadline_s: the poller stops by itself this long after :meth:`start`; None polls until stopped.
        keep: outcomes kept in :meth:`history` (oldest dropped first); None keeps every one.
    """

    def __init__(self, fn: Callable[[], T], period_s: float, *, name: str, timeout_s: float | None = None,
                 deadline_s: float | None = None, keep: int | None = None) -> None:
        if not period_s > 0:
            raise ValueError(f"period_s must be positive, not {period_s!r}")
        self.fn, self.period_s, self.name = fn, period_s, name
        self.timeout_s, self.deadline_s = timeout_s, deadline_s
        self._history: deque[Polled[T]] = deque(maxlen=keep)
        self._latest: Polled[T] | None = None
        self._last_ok: Polled[T] | None = None
        self._polls = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: _Call[T] | None = None
        #: set when the loop has ended (stopped, or past its deadline)
        self.finished = threading.Event()

    # --- what was polled -------------------------------------------------------------------

    def latest(self) -> Polled[T] | None:
        """The last outcome (a value or a gap), or None before the first."""
        with self._changed:
            return self._latest

    def last_ok(self) -> Polled[T] | None:
        """The last successful outcome, or None."""
        with self._changed:
            return self._last_ok

    def snapshot(self) -> tuple[Polled[T] | None, Polled[T] | None]:
        """``(latest, last_ok)`` taken together."""
        with self._changed:
            return self._latest, self._last_ok

    def history(self) -> list[Polled[T]]:
        """Every outcome kept, oldest first."""
        with self._changed:
            return list(self._history)

    @property
    def polls(self) -> int:
        """How many outcomes were recorded so far (values and gaps)."""
        with self._changed:
            return self._polls

    def wait_for(self, predicate: Callable[[Poller[T]], bool], timeout: float | None = None) -> bool:
        """Block until ``predicate(self)`` holds (checked at every outcome and at the end); its last result."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    # --- recording ---------------------------------------------------------------------------

    def put(self, value: T) -> Polled[T]:
        """Record a value read outside the loop (a probe's first reading)."""
        return self._record(Polled(time.monotonic(), value=value))

    def _record(self, outcome: Polled[T]) -> Polled[T]:
        with self._changed:
            self._history.append(outcome)
            self._latest = outcome
            if outcome.ok:
                self._last_ok = outcome
            self._polls += 1
            self._changed.notify_all()
        return outcome

    def _describe(self, exc: BaseException) -> str:
        return str(exc) if isinstance(exc, MeterReadError) else f"{self.name}: {type(exc).__name__}: {exc}"

    def poll_once(self) -> Polled[T]:
        """One call now, in the caller's thread (under the per-read timeout), recorded; its outcome."""
        outcome = self._call()
        return self._record(outcome or Polled(time.monotonic(), error=f"{self.name}: stopped"))

    def _call(self) -> Polled[T] | None:
        """One call's outcome; None when the poller was stopped while waiting for it."""
        if self.timeout_s is None:
            try:
                return Polled(time.monotonic(), value=self.fn())
            except Exception as exc:  # noqa: BLE001 - a gap with its reason
                return Polled(time.monotonic(), error=self._describe(exc))
        pending = self._pending
        if pending is not None and not pending.done.is_set():
            stuck = time.monotonic() - pending.started
            return Polled(time.monotonic(), error=f"{self.name}: no answer within {self.timeout_s:g} s "
                                                  f"(the read started {stuck:.1f} s ago has not returned)")
        call: _Call[T] = _Call(self.fn, f"{self.name}-read", self._describe)
        self._pending = call  # before the stop check: stop() either sees it (and wakes it) or is seen here
        call.start()
        if not self._stop.is_set():
            call.wake.wait(self.timeout_s)
        if call.done.is_set() and call.outcome is not None:
            self._pending = None
            return call.outcome
        if self._stop.is_set():
            return None
        return Polled(time.monotonic(), error=f"{self.name}: no answer within {self.timeout_s:g} s")

    # --- the loop ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start polling (once; later calls do nothing)."""
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._loop, name=f"sitebench-{self.name}", daemon=True)
            self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def _loop(self) -> None:
        start = time.monotonic()
        end = start + self.deadline_s if self.deadline_s is not None else None
        tick = start
        try:
            while True:
                tick += self.period_s
                now = time.monotonic()
                if tick < now:  # the last call overran: skip the ticks it covered
                    tick = now + self.period_s - (now - tick) % self.period_s
                if end is not None and tick >= end:
                    if not self._stop.wait(max(0.0, end - now)):
                        self._record(Polled(time.monotonic(), error=f"{self.name}: polling ended, its deadline of "
                                                                    f"{self.deadline_s:g} s passed"))
                    return
                if self._stop.wait(tick - now):
                    return
                outcome = self._call()
                if outcome is None:
                    return
                self._record(outcome)
        finally:
            self.finished.set()
            with self._changed:
                self._changed.notify_all()

    def stop(self, timeout: float | None = None) -> None:
        """Stop polling and wait for the loop to end (up to ``timeout``, default the per-read timeout + 1 s)."""
        self._stop.set()
        pending = self._pending
        if pending is not None:
            pending.wake.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else (self.timeout_s or 0.0) + 1.0)
        else:
            self.finished.set()
