"""``--thermal SPEC``: temperature sources beside the power meters, in the meters' own grammar.

``NAME[:TARGET][,key=value]...`` as ``--meter`` (:mod:`bench.power.spec`), against its own table:
``hwmon`` (this machine's CPU packages), ``redfish:URL`` and ``ipmi[:[USER@]HOST]`` (a server's BMC),
``snmp:HOST[:PORT]`` (a rack PDU's environmental probe). A temperature source is a flag of its own, not
a meter, because a meter is a power figure: naming a PDU as a meter to read its probe would make the
whole PDU's power the run's wall figure, and a BMC's inlet sensor is read on a slower period than its
power. GPU temperatures come with the ``nvml`` meter, a miner's with its polls: neither needs a flag.

Without ``--thermal`` every local source that works here is read (hwmon); ``--thermal none`` reads
none. A source named explicitly that cannot open is one usage error line (exit 2), as a meter is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bench.errors import MeterReadError, MeterUnavailable, UsageError
from bench.power.spec import BACKENDS, Backend, MeterSpec, Option, Reach, Target
from bench.power.thermal.hwmon import HwmonSource
from bench.power.thermal.ipmi import open_ipmi
from bench.power.thermal.source import ThermalSource


def _period(default: float) -> Option:
    return Option("period", "float", default, help="seconds between two reads", metavar="S", positive=True)


_SNMP = {o.name: o for o in BACKENDS["snmp"].options}
#: Every temperature source, in the order default discovery tries them.
THERMAL_BACKENDS: dict[str, Backend] = {b.name: b for b in (
    Backend("hwmon", "CPU package temperatures from hwmon (coretemp, k10temp)", "bench.power.thermal.hwmon",
            Reach.HERE, options=(_period(1.0),), environment=("SITEBENCH_HWMON_ROOT",)),
    Backend("redfish", "a server's inlet, exhaust and room temperatures from its BMC's Redfish chassis "
            "(ThermalSubsystem, or the legacy Thermal)", "bench.power.thermal.redfish", Reach.TARGET,
            Target("URL", True, "the chassis URL", "https://BMC/redfish/v1/Chassis/ID", url=True),
            (BACKENDS["redfish"].options[0], BACKENDS["redfish"].options[1], _period(2.0)),
            environment=("REDFISH_USER", "REDFISH_PASSWORD", "SSL_CERT_FILE")),
    Backend("ipmi", "a server's inlet, exhaust and ambient temperatures from its BMC's sensor records (ipmitool)",
            "bench.power.thermal.ipmi", Reach.HERE_OR_TARGET,
            Target("[USER@]HOST", False, "a remote BMC (default: the local BMC)", "admin@bmc.example"),
            (_period(5.0),), environment=("IPMI_PASSWORD", "IPMI_USER")),
    Backend("snmp", "the room's temperature and humidity from a rack PDU's environmental probe (APC, Raritan, "
            "ServerTech)", "bench.power.thermal.snmp", Reach.TARGET, Target("HOST[:PORT]", True, "the PDU", "pdu-7"),
            (_SNMP["community"],
             Option("mib", "choice", "auto", help="the PDU's MIB (auto: from sysObjectID)",
                    choices=("auto", "apc", "raritan", "servertech")),
             Option("role", "choice", "ambient", help="what the probe's temperature is: the room's air at the rack "
                    "(ambient), or the air at the machines' intake (inlet)", choices=("ambient", "inlet")),
             _SNMP["user"], _SNMP["auth"], _SNMP["priv"], _SNMP["context"], _period(5.0), _SNMP["timeout"]),
            environment=("SNMP_COMMUNITY", "SNMP_USER", "SNMP_AUTH_KEY", "SNMP_PRIV_KEY")),
)}


class ThermalSpec(MeterSpec):
    """One parsed, checked ``--thermal`` spec (the meter grammar against :data:`THERMAL_BACKENDS`)."""

    TABLE = THERMAL_BACKENDS
    WHAT = "temperature source"


def _redfish(spec: MeterSpec) -> ThermalSource:
    from bench.power.thermal.redfish import RedfishThermal

    return RedfishThermal(spec.target or "", insecure=spec["insecure"] is True, timeout_s=spec.number("timeout"),
                          period_s=spec.number("period"))


def _snmp(spec: MeterSpec) -> ThermalSource:
    from bench.power.thermal.snmp import SnmpProbe

    main = spec.target or ""
    host, _, port = main.rpartition(":") if ":" in main else (main, "", "161")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise MeterUnavailable(f"{main!r} is not HOST or HOST:PORT")
    return SnmpProbe(host, int(port), spec.strings(), mib=spec.word("mib") or "auto", role=spec.word("role") or "ambient",
                     period_s=spec.number("period"), timeout_s=spec.number("timeout"))


#: Each source's factory: a checked spec -> the open source (MeterUnavailable, MeterReadError when it cannot).
OPENERS: dict[str, Callable[[MeterSpec], ThermalSource]] = {
    "hwmon": lambda spec: HwmonSource(period_s=spec.number("period")),
    "redfish": _redfish,
    "ipmi": lambda spec: open_ipmi(spec.target, spec.number("period")),
    "snmp": _snmp,
}
#: Sources opened without ``--thermal``: those that read this machine and cost nothing to try.
DEFAULT = ("hwmon",)


@dataclass
class OpenedThermal:
    """The sources opened, and why a default one was not (``--thermal`` not given)."""

    sources: list[ThermalSource] = field(default_factory=list)
    unavailable: list[tuple[str, str]] = field(default_factory=list)

    def close(self) -> None:
        for source in self.sources:
            source.close()


def open_source(spec: str | MeterSpec) -> ThermalSource:
    """The source one spec opens.

    Raises:
        MeterSpecError: the spec does not parse (a usage error).
        MeterUnavailable: the source cannot work (its device did not answer, has no sensor); one line.
    """
    checked = spec if isinstance(spec, MeterSpec) else ThermalSpec.parse(spec, where="--thermal")
    try:
        return OPENERS[checked.name](checked)
    except MeterReadError as exc:
        raise MeterUnavailable(str(exc)) from None


def open_thermal(specs: Iterable[str] | None) -> OpenedThermal:
    """Open the sources ``specs`` name; None opens every default one that works here, ``["none"]`` none.

    Raises:
        UsageError: a spec that does not parse, or (named explicitly) cannot open: one line; nothing is left open.
    """
    if specs is None:
        out = OpenedThermal()
        for name in DEFAULT:
            try:
                out.sources.append(open_source(ThermalSpec.build(name, where="--thermal")))
            except MeterUnavailable as exc:
                out.unavailable.append((name, str(exc)))
        return out
    given = [s.strip() for s in specs]
    if given == ["none"]:
        return OpenedThermal()
    if "none" in given:
        raise UsageError("--thermal none reads no temperature source: give it alone")
    parsed = [ThermalSpec.parse(s, where="--thermal") for s in given]
    out = OpenedThermal()
    try:
        for spec in parsed:
            try:
                out.sources.append(open_source(spec))
            except MeterUnavailable as exc:
                raise UsageError(f"--thermal {spec}: {exc}") from None
    except BaseException:
        out.close()
        raise
    return out


def grammar_help() -> str:
    """One line for ``--thermal`` help."""
    return ("NAME[:TARGET][,key=value]... (repeatable; default: hwmon where present; none: no source): "
            + ", ".join(b.short_form for b in THERMAL_BACKENDS.values()))
