"""Open the machine knobs a run changes: :func:`open_knobs` (``sitebench run --power-limit`` and the like).

Kinds: ``gpu.power_limit`` (:mod:`~bench.power.knobs.nvml_power`), ``gpu.sm_clocks``
(:mod:`~bench.power.knobs.nvml_clocks`), ``cpu.package_limit`` (:mod:`~bench.power.knobs.powercap`).
Importing this module registers each kind's reopener, so ``recover`` can put a killed run's knobs
back (:func:`bench.power.knobs.knob.reopen`). Opening reads each knob once and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.power.knobs import nvml_clocks, nvml_power, powercap
from bench.power.knobs.knob import Knob, KnobFailed, KnobRefused

#: kind -> its opener for a run's device.
MACHINE_KINDS: dict[str, Callable[[str], list[Knob]]] = {
    nvml_power.KIND: nvml_power.open_device,
    nvml_clocks.KIND: nvml_clocks.open_device,
    powercap.KIND: powercap.open_device,
}


def open_knobs(kind: str, device: str) -> list[Knob]:
    """The knobs of ``kind`` for a run on ``device``, each read once (its range too) to be sure it answers.

    ``device`` is the run's: ``cuda:N`` is GPU N alone, ``cuda`` every GPU this process sees (as the nvml
    meter measures them); ``cpu.package_limit`` is every package zone, whatever the device.

    Raises:
        KnobRefused: an unknown kind, a device the kind cannot change, no NVML or driver, no powercap
            tree, a GPU or zone that does not offer the knob (one line; nothing was changed).
    """
    opener = MACHINE_KINDS.get(kind)
    if opener is None:
        raise KnobRefused(f"unknown knob {kind[:80]!r} (known: {', '.join(MACHINE_KINDS)})")
    knobs = opener(device)
    for knob in knobs:
        try:
            knob.read()
            knob.allowed()
        except KnobFailed as exc:
            raise KnobRefused(str(exc)) from None
    return knobs
