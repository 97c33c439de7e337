"""A miner's temperatures and fans as channels of its run's thermal block (:mod:`bench.record.thermal`).

From each poll, in the miner's own words (source ``miner``, device ``asic:HOST``):

- ``inlet_c`` (role ``inlet``): the air the miner takes in, where its firmware has a sensor for it
  (Whatsminer ``Env Temp``); first, so that the derating fit reads it before any board's;
- per hash board ``i``: ``board<i>_c`` (role ``board``), ``board<i>_chip_c`` (``chip``), and where the
  firmware tells the board's intake side from its exhaust side (a stock Antminer's four PCB sensors),
  ``board<i>_inlet_c`` (``inlet``: the board at the intake, a few degrees above the air) and
  ``board<i>_outlet_c`` (``outlet``);
- ``fan<i>_rpm`` (role ``fan``);

and, where the firmware says so poll by poll (Whatsminer API v2's protection codes,
:mod:`bench.miners.measure.throttle`), the time it held itself back for heat, as the block's ``throttle``.

Per window as every channel is (:func:`bench.power.window.thermal.channel`): a poll at a window's first
instant belongs to it, the poll that closes it to the next. No series is kept (a file may hold a thousand
miners; the ``miner-api`` meter's telemetry holds each one's series, thinned).

The room's air, where ``miners run --thermal`` reads a rack PDU's environmental probe (or another source of
``--thermal``'s grammar), comes first: the same source's channels over each miner's own windows
(:func:`bench.power.window.thermal.polled_channels`), so that a miner soak's derating fit has an ambient (or,
with the probe at the intake, an inlet) channel of the air and not only the miner's own sensors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bench.miners.measure.throttle import miner_throttle
from bench.miners.protocol.model import Poll
from bench.power.thermal.sampler import ThermalLog
from bench.power.window.thermal import Bounds, Info, block, channel, polled_channels
from bench.record.thermal import Role, Thermal, ThermalUnit

#: the order channels are listed in: the intake air, then each board's figures, then fans
_ORDER = ("inlet", "board", "fan")


def figures(p: Poll) -> list[tuple[str, Role, ThermalUnit, str, float]]:
    """``(key, role, unit, what it is, value)`` of every temperature and fan one poll reports."""
    out: list[tuple[str, Role, ThermalUnit, str, float]] = []
    if p.temp_env_c is not None:
        out.append(("inlet_c", "inlet", "°C", "the miner's intake air sensor (Whatsminer summary Env Temp)",
                    p.temp_env_c))
    for b in p.boards:
        for suffix, role, value, what in (
                ("c", "board", b.temp_board_c, "hottest board sensor"),
                ("chip_c", "chip", b.temp_chip_c, "hottest chip"),
                ("inlet_c", "inlet", b.temp_inlet_c, "board sensors on the intake side (temp_pcb's first two of "
                 "four), a board temperature, above the air's"),
                ("outlet_c", "outlet", b.temp_outlet_c, "board sensors on the exhaust side (temp_pcb's last two)")):
            if value is not None:
                out.append((f"board{b.index}_{suffix}", role, "°C", f"hash board {b.index}: {what}", value))  # type: ignore[arg-type]
    for i, rpm in enumerate(p.fans_rpm):
        out.append((f"fan{i}_rpm", "fan", "rpm", f"fan {i} as the firmware numbers them", float(rpm)))
    return out


def _rank(key: str) -> tuple[int, str]:
    kind = 0 if key == "inlet_c" else 2 if key.startswith("fan") else 1
    digits = "".join(c for c in key if c.isdigit())
    return kind, f"{int(digits or 0):04d}{key}"


def miner_thermal(polls: Sequence[Poll], device: str, bounds: Bounds, t_ref: float, period_s: float,
                  family: str = "", room: Mapping[str, ThermalLog] | None = None) -> Thermal | None:
    """The thermal block of one miner's run from its polls over the windows ``bounds`` (None: no figure), the
    channels of the sources ``room`` holds (the room's air: a snapshot of the run's ``--thermal`` sources) first."""
    points: dict[str, list[tuple[float, float]]] = {}
    infos: dict[str, Info] = {}
    for p in polls:
        for key, role, unit, what, value in figures(p):
            name = f"{device}.{key}"
            if name not in infos:
                sensor = f"{family + ' ' if family else ''}firmware API: {what}"
                infos[name] = Info(name, "miner", device, role, unit, sensor, period_s)
            points.setdefault(name, []).append((p.t, value))
    order = sorted(infos, key=lambda n: _rank(n[len(device) + 1:]))
    air, notes = polled_channels(room, bounds, t_ref, series_points=0) if room else ([], [])
    held = miner_throttle(polls, device, bounds, period_s)
    return block(air + [channel(infos[n], points[n], bounds, t_ref, series_points=0) for n in order],
                 [held] if held is not None else [], notes)
