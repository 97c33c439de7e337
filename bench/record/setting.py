"""The operating point a run was measured at: which knob, the value asked for, the value read back.

A sweep (``run --power-limit 300,400,max``, ``miners run --power-target 2400,stock``) is one run
per point; each carries its :class:`Setting`. Runs of one machine and workload that differ only
in their setting are that machine's operating envelope (:mod:`bench.sizing.frontier`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bench.record.base import Record
from bench.record.bounds import Name, Seconds, Texts, Watts

#: A knob's value: a number in its unit (W, MHz) or a named mode (``low-power``, a LuxOS profile).
KnobValue = Annotated[float, Field(ge=-1e12, le=1e12)] | Name


class Setting(Record):
    """One run's operating point.

    ``knob`` is the knob's kind (``gpu.power_limit``, ``gpu.sm_clocks``, ``cpu.package_limit``,
    ``miner.power_target``, ``miner.mode``), ``target`` what it was set on (``gpu:0``,
    ``intel-rapl:0``, ``10.0.0.5:4028``), ``unit`` the value's (``W``, ``MHz``, ``mode``).
    ``requested`` is the value asked for, as resolved (``max`` becomes the device's default limit
    in W); ``read_back`` what the device said it holds after the change; ``original`` what it held
    before sitebench changed anything (restored after the sweep). ``stock`` marks the device's own
    default (the point a sweep's gains are measured against). ``limit_w`` is the power the setting
    caps the machine at, where it is a power setting; ``over_limit`` when the measured power
    exceeded it beyond the meter's accuracy. ``settle_s`` is the time waited after the change
    before the warm-up.
    """

    knob: Name
    target: Name
    unit: Name
    requested: KnobValue
    read_back: KnobValue | None = None
    original: KnobValue | None = None
    stock: bool = False
    limit_w: Watts | None = None
    over_limit: bool = False
    settle_s: Seconds = 0.0
    notes: Texts = []
