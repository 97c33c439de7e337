"""Power meters whose reads are slow: a BMC asked over the network or through ``ipmitool``.

Such a read takes from tens of milliseconds to seconds, and the BMC updates its
figure about once a second anyway. The sampler must not wait on it (a phase
marker reads every meter under the sampler's lock), so the meter fetches in its
own thread (:class:`~bench.power.poller.Poller`) once per update period and :meth:`HeldPowerMeter.read` returns
the latest figure at once: sample-and-hold, like any polled power sensor, with the
figure's age in ``Reading.extra["age_s"]``. When the last fetch failed, or no
fetch has succeeded for longer than two periods plus the fetch timeout, a read
raises :class:`~bench.errors.MeterReadError` with the reason, so the sampler
records a gap and the run goes on; the next successful fetch ends the gap. A fetch
that does not return within its timeout plus :data:`GRACE_S` is a gap too (the
poller's per-read timeout), and no second fetch starts until it returns.
"""

from __future__ import annotations

import time
from abc import abstractmethod

from bench.errors import MeterReadError
from bench.power.meter import Meter, Reading
from bench.power.poller import Poller

#: A fetch may overrun its own timeout by this much before the poller calls it a gap.
GRACE_S = 1.0
#: Fetches the poller keeps (the sampler records the readings).
KEEP = 16


class HeldPowerMeter(Meter):
    """A polled power meter that fetches in the background (a :class:`~bench.power.poller.Poller`)
    and holds the latest figure.

    Subclasses implement :meth:`fetch` and call :meth:`prime` once when opened, so that a
    meter that cannot answer is refused before the run.
    """

    def __init__(self, name: str, scope: str, *, accuracy: float | None, accuracy_note: str,
                 update_period_s: float, timeout_s: float) -> None:
        super().__init__(name, scope, accuracy=accuracy, accuracy_note=accuracy_note,
                         update_period_s=update_period_s, method="polled")
        self.timeout_s = timeout_s
        self.poller: Poller[float] = Poller(self.fetch, update_period_s, name=name, timeout_s=timeout_s + GRACE_S,
                                            keep=KEEP)

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
        """Fetch once, now, and hold the figure; returns it.

        Raises:
            MeterReadError: for any failure of the fetch, expected or not.
        """
        polled = self.poller.poll_once()
        if polled.error is not None or polled.value is None:
            raise MeterReadError(polled.error or f"{self.name}: no reading")
        return polled.value

    def read(self) -> Reading:
        if not self.poller.started:
            self.poller.period_s = self.update_period_s  # a caller may have set the period since opening
            self.poller.start()
        latest, held = self.poller.snapshot()
        now = time.monotonic()
        if latest is not None and latest.error is not None:
            raise MeterReadError(latest.error)
        if held is None or held.value is None:
            raise MeterReadError(f"{self.name}: no reading yet")
        age = now - held.t
        if age > self.stale_after_s:
            raise MeterReadError(f"{self.name}: no answer for {age:.1f} s")
        return Reading(t=now, power_w=held.value, extra={"age_s": round(age, 3)})

    def close(self) -> None:
        self.poller.stop()
