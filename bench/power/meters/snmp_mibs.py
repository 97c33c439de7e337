"""The PDU MIBs the ``snmp`` meter reads (:mod:`bench.power.meters.snmp`): power and energy columns per vendor."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """One power table of a PDU MIB: the power column (x ``watts`` per unit), the energy column (x ``joules``),
    the index suffix naming the sensor (Raritan), and columns of per-row decimal digits and stated accuracy."""

    power: str
    watts: float
    energy: str | None
    joules: float
    suffix: str = ""
    energy_suffix: str = ""
    digits: str | None = None
    accuracy: str | None = None
    lsd_w: float | None = None


@dataclass(frozen=True)
class Mib:
    """A vendor's PDU MIB: the sysObjectID prefix, device (inputs) and outlet tables, stated accuracy."""

    enterprise: str
    device: Table
    outlet: Table
    outlet_number: str | None = None
    accuracy: float | None = None
    note: str = "accuracy unstated (the MIB gives none)"


_KWH, _APC, _RAR = 3.6e6, "1.3.6.1.4.1.318.1.1.26", "1.3.6.1.4.1.13742.6"
_ST4, _EAT = "1.3.6.1.4.1.1718.4.1", "1.3.6.1.4.1.534.6.6.7"
MIBS: dict[str, Mib] = {
    "apc": Mib("1.3.6.1.4.1.318", Table(f"{_APC}.4.3.1.5", 10.0, f"{_APC}.4.3.1.9", _KWH / 10, lsd_w=10.0),
               Table(f"{_APC}.9.4.3.1.7", 1.0, f"{_APC}.9.4.3.1.11", _KWH / 10, lsd_w=1.0), f"{_APC}.9.4.3.1.4", 0.03,
               "APC AP8xxx: +/-3% of reading +/-1 digit (Schneider FAQ FA156074); outlet power under 50 W reads 0"),
    "raritan": Mib("1.3.6.1.4.1.13742",
                   Table(f"{_RAR}.5.2.3.1.4", 1.0, f"{_RAR}.5.2.3.1.4", 3600.0, ".5", ".8",
                         f"{_RAR}.3.3.4.1.7", f"{_RAR}.3.3.4.1.8"),
                   Table(f"{_RAR}.5.4.3.1.4", 1.0, f"{_RAR}.5.4.3.1.4", 3600.0, ".5", ".8",
                         f"{_RAR}.3.5.4.1.7", f"{_RAR}.3.5.4.1.8"),
                   note="Raritan: the sensor's own stated accuracy (PDU2-MIB *SensorAccuracy)"),
    "servertech": Mib("1.3.6.1.4.1.1718", Table(f"{_ST4}.3.3.1.3", 1.0, f"{_ST4}.3.3.1.10", _KWH / 10),
                      Table(f"{_ST4}.8.3.1.7", 1.0, f"{_ST4}.8.3.1.14", 3600.0)),
    "eaton": Mib("1.3.6.1.4.1.534", Table(f"{_EAT}.3.5.1.4", 1.0, f"{_EAT}.3.5.1.5", 3600.0),
                 Table(f"{_EAT}.6.5.1.3", 1.0, f"{_EAT}.6.5.1.4", 3600.0)),
}
