"""Miners' knobs: the power target or mode each firmware lets sitebench set, chosen by firmware family.

:func:`miner_knob` gives the knob of a miner found on the LAN (:func:`firmware_of` its identity names the
family); :data:`FIRMWARES` says, per family, how its knob is made and how ``recover`` reopens it from the
spec a journal holds. One opener per knob kind is registered with :func:`bench.power.knobs.knob.register`
(:func:`reopen_miner_knob`), dispatching on the spec's ``firmware``. Each firmware's knob lives in a module
of its own here, and adds its entry to :data:`FIRMWARES`.

- ``whatsminer-v3``: :mod:`~bench.miners.protocol.knobs.whatsminer` (``miner.power_target``, W).
- ``braiins``: :mod:`~bench.miners.protocol.knobs.braiins` (``miner.power_target``, W, over gRPC on 50051).
- ``luxos``: :mod:`~bench.miners.protocol.knobs.luxos` (``miner.mode``: its profiles, ATM off while swept).
- ``antminer``: :mod:`~bench.miners.protocol.knobs.antminer_modes` (``miner.mode``: normal, low-power; web CGIs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.miners.protocol.knobs import antminer_modes, braiins, luxos, whatsminer
from bench.miners.protocol.model import Identity
from bench.miners.protocol.transport import DEFAULT_TIMEOUT_S
from bench.power.knobs.knob import Knob, KnobFailed, KnobRefused, register


@dataclass(frozen=True)
class Firmware:
    """One firmware family's knob: its kind, how it is made for a miner found on the LAN (``make(identity,
    timeout_s)``), and how ``recover`` reopens it from its spec (``open_spec(spec)``)."""

    kind: str
    make: Callable[[Identity, float], Knob]
    open_spec: Callable[[dict[str, Any]], Knob]
    #: In words, for the refusal of a miner whose firmware has no knob (``Whatsminer API v3 power limit``).
    what: str


#: Firmware family (:func:`firmware_of`) -> its knob.
FIRMWARES: dict[str, Firmware] = {
    whatsminer.FIRMWARE: Firmware(
        "miner.power_target",
        lambda i, timeout_s: whatsminer.WhatsminerPowerLimit(i.host, i.port, model=i.model, timeout_s=timeout_s),
        whatsminer.open_spec, "Whatsminer API v3 power limit"),
    braiins.FIRMWARE: Firmware(
        "miner.power_target",
        lambda i, timeout_s: braiins.BraiinsPowerTarget(i.host, timeout_s=max(timeout_s, braiins.TIMEOUT_S)),
        braiins.open_spec, "Braiins OS+ power target"),
    luxos.FIRMWARE: Firmware(
        "miner.mode", lambda i, timeout_s: luxos.LuxosProfile(i.host, i.port, timeout_s=max(timeout_s, luxos.TIMEOUT_S)),
        luxos.open_spec, "LuxOS profiles"),
    antminer_modes.FIRMWARE: Firmware(
        "miner.mode",
        lambda i, timeout_s: antminer_modes.AntminerMode(i.host, timeout_s=max(timeout_s, antminer_modes.TIMEOUT_S)),
        antminer_modes.open_spec, "stock Antminer work modes"),
}


def firmware_of(identity: Identity) -> str:
    """The family a miner's knob is chosen by: ``whatsminer-v3`` for Whatsminer API v3, else its firmware family
    (``braiins``, ``luxos``, ``antminer``, ``whatsminer`` for API v2, ``avalon``, ``cgminer``)."""
    return "whatsminer-v3" if identity.protocol == "whatsminer-v3" else identity.family


def miner_knob(identity: Identity, timeout_s: float = DEFAULT_TIMEOUT_S) -> Knob:
    """The knob of the miner ``identity`` names (nothing is asked of the miner yet).

    Raises:
        KnobRefused: its firmware offers no knob sitebench sets (one line naming what sitebench can set).
    """
    family = firmware_of(identity)
    found = FIRMWARES.get(family)
    if found is None:
        known = "; ".join(f.what for f in FIRMWARES.values())
        raise KnobRefused(f"{identity.address}: {identity.make} {identity.model} ({identity.firmware}) offers no power "
                          f"target or mode sitebench can set (sitebench sets: {known}); nothing was changed")
    return found.make(identity, timeout_s)


def reopen_miner_knob(spec: dict[str, Any]) -> Knob:
    """The miner knob a journal's spec names, by its ``firmware`` (for ``recover``).

    Raises:
        KnobFailed: a firmware or kind sitebench does not know, or a spec that does not say where the miner is.
    """
    family = spec.get("firmware")
    found = FIRMWARES.get(family) if isinstance(family, str) else None
    if found is None or found.kind != spec.get("kind"):
        raise KnobFailed(f"no {str(spec.get('kind'))[:40]} knob of firmware {str(family)[:40]!r} is known")
    return found.open_spec(spec)


for _kind in ("miner.power_target", "miner.mode"):
    register(_kind, reopen_miner_knob)

__all__ = ["FIRMWARES", "Firmware", "firmware_of", "miner_knob", "reopen_miner_knob"]
