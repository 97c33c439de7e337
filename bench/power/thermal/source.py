"""The interface every temperature source implements.

A source declares its channels once, when opened (:class:`~bench.power.channels.Channel`: device, role,
unit, the sensor it reads and the thresholds it reports), and :meth:`ThermalSource.read` returns the
channels' values now, by channel name. A channel missing from one read is a gap for that channel; a
failed read raises :class:`~bench.errors.MeterReadError` and is a gap for all of them, never a 0.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from bench.power.channels import Channel, MeterChannel, admit, key
from bench.record.thermal import SourceKind

__all__ = ["Channel", "MeterChannel", "ThermalSource", "admit", "key"]


class ThermalSource(ABC):
    """One place temperatures are read from (a hwmon tree, a BMC, a PDU's probe), polled every ``period_s``."""

    #: the record's source name: ``hwmon``, ``redfish``, ``ipmi``, ``snmp``.
    kind: ClassVar[SourceKind]
    #: True for a read of this machine that returns at once (a sysfs file): it is also read at every
    #: marker of the power sampler. A remote source (its own deadline per read) is only polled.
    local: ClassVar[bool] = False

    def __init__(self, name: str, channels: list[Channel], *, period_s: float, notes: list[str] | None = None) -> None:
        self.name = name
        self.channels = channels
        self.period_s = period_s
        #: what a reader must know about the channels (one line each)
        self.notes = list(notes or [])

    @abstractmethod
    def read(self) -> dict[str, float]:
        """Every channel's value now, by channel name (a channel not read this time is left out).

        Raises:
            MeterReadError: the read failed (a gap for every channel).
        """

    def close(self) -> None:
        """Release handles; the default has none."""
