"""Knobs: settings sitebench can read, set and restore (power limits, locked clocks, miner targets).

- :mod:`bench.power.knobs.knob`: the :class:`Knob` interface, :class:`Allowed`, the reopen registry;
- :mod:`bench.power.knobs.guard`: :class:`KnobGuard`, the one place a knob changes and is put back,
  and :func:`restore_journaled` for ``recover``;
- :mod:`bench.power.knobs.open`: :func:`open_knobs` for the machine's own knobs (GPU power limit and
  locked SM clocks through NVML, CPU package limit through powercap); importing it registers their
  reopeners for ``recover``.
"""

from bench.power.knobs.guard import KnobGuard, check_before_change, restore_journaled
from bench.power.knobs.knob import Allowed, Knob, KnobFailed, KnobRefused, Point, Value, register, reopen
from bench.power.knobs.open import MACHINE_KINDS, open_knobs

__all__ = ["MACHINE_KINDS", "Allowed", "Knob", "KnobFailed", "KnobGuard", "KnobRefused", "Point", "Value",
           "check_before_change", "open_knobs", "register", "reopen", "restore_journaled"]
