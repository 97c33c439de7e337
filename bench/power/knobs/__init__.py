"""Knobs: settings sitebench can read, set and restore (power limits, locked clocks, miner targets).

- :mod:`bench.power.knobs.knob`: the :class:`Knob` interface, :class:`Allowed`, the reopen registry;
- :mod:`bench.power.knobs.guard`: :class:`KnobGuard`, the one place a knob changes and is put back,
  and :func:`restore_journaled` for ``recover``.
"""

from bench.power.knobs.guard import KnobGuard, check_before_change, restore_journaled
from bench.power.knobs.knob import Allowed, Knob, KnobFailed, KnobRefused, Point, Value, register, reopen

__all__ = ["Allowed", "Knob", "KnobFailed", "KnobGuard", "KnobRefused", "Point", "Value", "check_before_change",
           "register", "reopen", "restore_journaled"]
