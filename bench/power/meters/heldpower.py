"""Power meters whose reads are slow: a BMC asked over the network or through ``ipmitool``.

Such a read takes from tens of milliseconds to seconds, and the BMC updates its
figure about once a second anyway. The sampler must not wait on it (a phase
marker reads every meter under the sampler's lock), so the meter fetches in its
own daemon thread once per update period and :meth:`HeldPowerMeter.read` returns
the latest figure at once: sample-and-hold, like any polled power sensor, with the
figure's age in ``Reading.extra["age_s"]``. When the last fetch failed, or no
fetch has succeeded for longer than two periods plus the fetch timeout, a read
raises :class:`~bench.errors.MeterReadError` with the reason, so the sampler
records a gap and the run goes on; the next successful fetch ends the gap.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod

from bench.errors import MeterReadError
from bench.power.meter import Meter, Reading


class HeldPowerMeter(Meter):
    """A polled power meter that fetches in a background thread and holds the latest figure.

    Subclasses implement :meth:`fetch`; the probe calls :meth:`prime` once so that a
    meter that cannot answer is refused before the run.
    """

    def __init__(self, name: str, scope: str, *, accuracy: float | None, accuracy_note: str,
                 update_period_s: float, timeout_s: float) -> None:
        super().__init__(name, scope, accuracy=accuracy, accuracy_note=accuracy_note,
                         update_period_s=update_period_s, method="polled")
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._value: float | None = None
        self._fetched_at = 0.0
        self._error: str | None = None

    @abstractmethod
    def fetch(self) -> float:
        """Ask the device for its power in W now (may block up to ``timeout_s``).

        Raises:
            MeterReadError: the device did not answer or answered nonsense.
        """

    @property
    def stale_after_s(self) -> float:
        """How old the held figure may grow before reads fail."""
        return 2 * self.update_period_s + self.timeout_s

    def prime(self) -> float:
        """Fetch once, synchronously, and hold the figure; returns it.

        Raises:
            MeterReadError: for any failure of the fetch, expected or not.
        """
        try:
            value = self.fetch()
        except MeterReadError:
            raise
        except Exception as exc:  # noqa: BLE001 - a truncated HTTP answer at probe time is one line, not a traceback
            raise MeterReadError(f"{self.name}: {type(exc).__name__}: {exc}") from None
        self._store(value, None)
        return value

    def _store(self, value: float | None, error: str | None) -> None:
        with self._lock:
            if error is None:
                self._value, self._fetched_at = value, time.monotonic()
            self._error = error

    def _loop(self) -> None:
        while not self._stop.wait(self.update_period_s):
            try:
                self._store(self.fetch(), None)
            except MeterReadError as exc:
                self._store(None, str(exc))
            except Exception as exc:  # noqa: BLE001 - a truncated HTTP answer, a vanished ipmitool: keep polling
                self._store(None, f"{type(exc).__name__}: {exc}")

    def read(self) -> Reading:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"sitebench-{self.name}", daemon=True)
            self._thread.start()
        with self._lock:
            value, fetched_at, error = self._value, self._fetched_at, self._error
        now = time.monotonic()
        if error is not None:
            raise MeterReadError(error)
        if value is None:
            raise MeterReadError(f"{self.name}: no reading yet")
        age = now - fetched_at
        if age > self.stale_after_s:
            raise MeterReadError(f"{self.name}: no answer for {age:.1f} s")
        return Reading(t=now, power_w=value, extra={"age_s": round(age, 3)})

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 1.0)
