"""The Knob interface: a setting sitebench can read, set and restore, with its range and permission.

Every knob (GPU power limit and locked SM clocks through NVML, the CPU package limit through
powercap, a miner's power target or mode through its firmware) implements :class:`Knob`. Nothing
here changes anything by itself: :class:`bench.power.knobs.guard.KnobGuard` is the one place a
value is set, after the original was read and journaled, and the one place it is put back.

``recover`` reopens a knob a killed run left changed from :meth:`Knob.spec` (its kind, target and
whatever else it needs to be found again, never a secret) through :func:`reopen`, which looks the
kind up in :data:`OPENERS` (each knob module registers its own; the miners' knobs register from
:mod:`bench.miners`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bench.errors import UsageError

#: A knob's value: a number in its unit (W, MHz) or a named mode.
Value = float | str

#: Words a sweep may use for a point, resolved by each knob (:meth:`Knob.resolve`).
STOCK_WORDS = ("stock", "default", "max", "min")


class KnobRefused(UsageError):
    """A value outside the device's own constraints, an unknown knob or mode, a firmware without the
    command, a missing permission: one line, exit 2, and nothing was changed."""


class KnobFailed(Exception):
    """The device did not take a change it should have (no answer, refused mid-sweep): the sweep
    stops at that point and every knob changed so far is put back."""


@dataclass(frozen=True)
class Allowed:
    """What a knob accepts: a numeric range ``[low, high]`` in its unit (``step`` where the device
    only takes multiples), named ``modes``, or both (locked clocks: a range of MHz, or ``unlocked``)."""

    low: float | None = None
    high: float | None = None
    step: float | None = None
    modes: tuple[str, ...] = ()

    def describe(self, unit: str) -> str:
        """``100-700 W`` or ``modes: normal, low-power``."""
        if self.modes and not self.ranged:
            return "modes: " + ", ".join(self.modes)
        text = f"{self.low:g}-{self.high:g} {unit}" + (f" in steps of {self.step:g}" if self.step else "")
        return text + "".join(f" or {mode}" for mode in self.modes)

    @property
    def ranged(self) -> bool:
        """True when numbers are accepted (a range is given)."""
        return self.low is not None or self.high is not None

    def check(self, value: Value, unit: str, what: str) -> None:
        """Refuse ``value`` unless allowed.

        Raises:
            KnobRefused: out of range, not a mode, or a number where modes are expected (or the reverse).
        """
        if isinstance(value, str) or (self.modes and not self.ranged):
            if value in self.modes:
                return
            if self.modes and not self.ranged:
                raise KnobRefused(f"{what}: {value!r} is not one of its modes ({', '.join(self.modes)})")
            raise KnobRefused(f"{what}: {value!r} is not a number of {unit}"
                              + "".join(f" nor {mode!r}" for mode in self.modes))
        if not math.isfinite(value):
            raise KnobRefused(f"{what}: {value!r} is not a finite number of {unit}")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise KnobRefused(f"{what}: {value:g} {unit} is outside the device's own range ({self.describe(unit)})")


class Knob(ABC):
    """One setting on one device.

    Subclasses set :attr:`kind`, :attr:`unit`, :attr:`permission` and :attr:`settle_s`, and
    implement :meth:`read`, :meth:`allowed`, :meth:`missing_permission`, :meth:`set` and
    :meth:`spec`. Reads and writes raise :class:`KnobFailed` when the device does not answer.
    """

    #: ``gpu.power_limit``, ``gpu.sm_clocks``, ``cpu.package_limit``, ``miner.power_target``, ``miner.mode``.
    kind: ClassVar[str]
    #: ``W``, ``MHz`` or ``mode``.
    unit: ClassVar[str]
    #: What changing it needs, in words (``root or CAP_SYS_ADMIN``; ``SITEBENCH_MINER_PASSWORD``).
    permission: ClassVar[str]
    #: Seconds to wait after a change before the warm-up (a GPU limit settles in seconds, a miner retunes for minutes).
    settle_s: ClassVar[float] = 5.0

    def __init__(self, target: str) -> None:
        self.target = target

    @property
    def label(self) -> str:
        """``gpu.power_limit on gpu:0``."""
        return f"{self.kind} on {self.target}"

    @abstractmethod
    def read(self) -> Value:
        """The value the device holds now."""

    @abstractmethod
    def allowed(self) -> Allowed:
        """The device's own constraints."""

    @abstractmethod
    def missing_permission(self) -> str | None:
        """None when this process may change the knob; otherwise one line saying what it lacks."""

    @abstractmethod
    def set(self, value: Value) -> None:
        """Make the device hold ``value`` (already checked against :meth:`allowed`)."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """How ``recover`` finds this knob again: ``{"kind": ..., "target": ..., ...}`` (JSON, no secrets)."""

    def stock(self) -> Value:
        """The device's own default (``max`` on a GPU is its default power limit; ``stock`` on a miner)."""
        return self.read()

    def restore(self, original: Value) -> None:
        """Put ``original`` back (a knob whose "unset" state is not a value, locked clocks, overrides this)."""
        self.set(original)

    def resolve(self, word: str) -> Value:
        """A sweep's point as a value: a number, a mode, or ``stock``/``default``/``max``/``min``.

        Raises:
            KnobRefused: not a number, a mode or a word this knob knows.
        """
        allowed = self.allowed()
        if word in ("stock", "default"):
            return self.stock()
        if word == "max" and allowed.high is not None:
            return allowed.high if self.kind != "gpu.power_limit" else self.stock()
        if word == "min" and allowed.low is not None:
            return allowed.low
        if word in allowed.modes or (allowed.modes and not allowed.ranged):
            return word
        try:
            value = float(word)
        except ValueError:
            raise KnobRefused(f"{self.label}: {word!r} is not a number of {self.unit} "
                              f"nor one of {', '.join(STOCK_WORDS)}") from None
        if not math.isfinite(value):
            raise KnobRefused(f"{self.label}: {word!r} is not a finite number of {self.unit}")
        return value

    def limit_w(self, value: Value) -> float | None:
        """The power ``value`` caps the machine at (W), for power knobs; None for clocks and modes."""
        return float(value) if self.unit == "W" and not isinstance(value, str) else None

    def notes(self) -> list[str]:
        """What the record should say about this knob beside its value (a limit not enforced, a value that
        cannot be read back); empty by default."""
        return []


#: ``kind`` -> a function that reopens a knob from its :meth:`Knob.spec` (raises KnobFailed when it cannot).
OPENERS: dict[str, Callable[[dict[str, Any]], Knob]] = {}


def register(kind: str, opener: Callable[[dict[str, Any]], Knob]) -> None:
    """Let ``recover`` reopen knobs of ``kind``."""
    OPENERS[kind] = opener


def reopen(spec: dict[str, Any]) -> Knob:
    """The knob a journal's ``knob`` line names.

    Raises:
        KnobFailed: an unknown kind, or the device cannot be reached.
    """
    kind = spec.get("kind")
    opener = OPENERS.get(kind) if isinstance(kind, str) else None
    if opener is None:
        raise KnobFailed(f"unknown knob kind {str(kind)[:80]!r}")
    return opener(spec)


@dataclass
class Point:
    """One point of a sweep, as asked (``300``, ``max``, ``low-power``) and as resolved."""

    word: str
    value: Value
    stock: bool = False
    notes: list[str] = field(default_factory=list)
