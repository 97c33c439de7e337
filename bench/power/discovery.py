"""Opening meters: the one place that turns meter specs into open meters, by policy.

A spec (:class:`~bench.power.spec.MeterSpec`, ``NAME[:TARGET][,key=value]...``) means the same
to every command. What the command measures decides which meters fit (:class:`Policy`):

- :meth:`Policy.here`, this machine's run (``sitebench run``, ``list``): without specs, every
  back-end that works here (the modelled estimate only when nothing measured does); named
  specs are opened as named.
- :meth:`Policy.server`, a server driven over the network (``sitebench serve``): only meters
  that measure the server. On loopback this machine's meters do (and the notes say they also
  measure the load generator); for a remote server a meter of this machine is refused, and
  without specs there is no meter.
- :meth:`Policy.wall`, wall power per machine (the miners): one spec per machine, each opening
  exactly one ``wall`` meter; a device that does not answer fails that machine only
  (:attr:`Opened.failed`).

A spec named explicitly that cannot open is one :class:`~bench.errors.UsageError` line
(``--meter SPEC: why``, secrets hidden) and the meters already opened are closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit

from bench.errors import MeterUnavailable, UsageError
from bench.power.meter import Meter, NoReading
from bench.power.meters import csvlog, ipmi, modelled, nvml, prometheus, rapl, redfish, snmp
from bench.power.spec import BACKENDS, MeterSpec, server_meters

#: Each back-end's factory: a checked spec -> its open meters (MeterUnavailable, NoReading when it cannot).
OPENERS: dict[str, Callable[[MeterSpec], list[Meter]]] = {
    "rapl": rapl.open_spec,
    "nvml": nvml.open_spec,
    "model": modelled.open_spec,
    "ipmi": ipmi.open_spec,
    "redfish": redfish.open_spec,
    "csv": csvlog.open_spec,
    "prometheus": prometheus.open_spec,
    "snmp": snmp.open_spec,
}
#: Back-ends whose default target follows the run's device (nvml: only the GPU the run uses).
DEVICE_TARGETS: dict[str, Callable[[str], str | None]] = {"nvml": nvml.device_target}
LOOPBACK = ("localhost", "::1")


@dataclass(frozen=True)
class Unavailable:
    """A back-end that cannot work here, with the reason."""

    name: str
    reason: str


class Case(str, Enum):
    HERE = "here"
    SERVER = "server"
    WALL = "wall"


@dataclass(frozen=True)
class Policy:
    """What the meters must measure; build it with :meth:`here`, :meth:`server` or :meth:`wall`."""

    case: Case
    device: str | None = None
    keep_modelled: bool = False
    host: str | None = None
    machine: str = "machine"

    @classmethod
    def here(cls, device: str | None = None, *, keep_modelled: bool = False) -> Policy:
        """This machine's run on ``device`` (nvml then opens only that GPU by default); ``keep_modelled`` keeps
        the modelled estimate beside measured meters (``sitebench list``)."""
        return cls(Case.HERE, device=device, keep_modelled=keep_modelled)

    @classmethod
    def server(cls, base_url: str) -> Policy:
        """A server at ``base_url``: meters must measure it."""
        return cls(Case.SERVER, host=urlsplit(base_url).hostname or "")

    @classmethod
    def wall(cls, machine: str = "machine") -> Policy:
        """One wall meter per machine; ``machine`` names what is measured in messages (``miner``)."""
        return cls(Case.WALL, machine=machine)

    @property
    def loopback(self) -> bool:
        """True for a server on this machine."""
        host = self.host or ""
        return host in LOOPBACK or host.startswith("127.")


@dataclass
class Opened:
    """The meters opened, and why others were not.

    Attributes:
        meters: every meter opened, in spec order.
        unavailable: back-ends that could not work here (default discovery only).
        notes: what the choice means for the figures (printed and recorded by the command).
        by_machine: :meth:`Policy.wall`: each machine's wall meter.
        failed: :meth:`Policy.wall`: machines whose meter gave no reading, with the reason.
    """

    meters: list[Meter] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    by_machine: dict[str, Meter] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        """Close every meter opened."""
        for meter in self.meters:
            meter.close()


def open_spec(spec: str | MeterSpec) -> list[Meter]:
    """The meters one spec opens, whatever the policy (the factory every policy goes through).

    Raises:
        MeterSpecError: the spec does not parse (a usage error).
        MeterUnavailable: the meter cannot work (:class:`~bench.power.meter.NoReading` when its device gave no
            reading); one line.
    """
    checked = spec if isinstance(spec, MeterSpec) else MeterSpec.parse(spec)
    return OPENERS[checked.name](checked)


def _parse(specs: Iterable[str | MeterSpec]) -> list[MeterSpec]:
    return [s if isinstance(s, MeterSpec) else MeterSpec.parse(s) for s in specs]


def open_meters(specs: Iterable[str | MeterSpec] | Mapping[str, str | MeterSpec] | None, policy: Policy) -> Opened:
    """Open the meters ``specs`` name (None: the policy's default) for ``policy``.

    Every spec is parsed before any meter opens. For :meth:`Policy.wall`, ``specs`` maps each machine to its
    meter's spec (a list is keyed by the specs' redacted text).

    Raises:
        UsageError: a spec that does not parse, does not fit the policy, or (named explicitly) cannot open:
            one line; nothing is left open.
    """
    if policy.case is Case.WALL:
        if specs is None:
            return Opened()
        if isinstance(specs, Mapping):
            return _wall({m: s if isinstance(s, MeterSpec) else MeterSpec.parse(s) for m, s in specs.items()}, policy)
        return _wall({s.redacted(): s for s in _parse(specs)}, policy)
    named = None if specs is None else _parse(specs.values() if isinstance(specs, Mapping) else specs)
    if policy.case is Case.SERVER:
        return _server(named, policy)
    if named is None:
        return _discover(policy)
    return Opened(_explicit(named))


def _explicit(specs: list[MeterSpec]) -> list[Meter]:
    meters: list[Meter] = []
    try:
        for spec in specs:
            try:
                meters.extend(open_spec(spec))
            except MeterUnavailable as exc:
                raise UsageError(f"--meter {spec}: {exc}") from None
    except BaseException:
        for meter in meters:
            meter.close()
        raise
    return meters


def _discover(policy: Policy) -> Opened:
    """Every back-end that works here; the modelled estimate only when nothing measured does (or kept)."""
    opened = Opened()
    for name in BACKENDS:
        target = DEVICE_TARGETS[name](policy.device) if name in DEVICE_TARGETS and policy.device else None
        try:
            opened.meters.extend(open_spec(MeterSpec.build(name, target)))
        except (MeterUnavailable, UsageError) as exc:  # a back-end that needs a target says so here
            opened.unavailable.append(Unavailable(name, str(exc).removeprefix(f"--meter {name}: ")))
    if not policy.keep_modelled and any(m.measured for m in opened.meters):
        for m in [m for m in opened.meters if not m.measured]:
            m.close()
        opened.meters = [m for m in opened.meters if m.measured]
    return opened


def _server(specs: list[MeterSpec] | None, policy: Policy) -> Opened:
    host = policy.host or "?"
    if specs is None:
        if policy.loopback:
            opened = _discover(Policy.here())
            opened.notes.append("server on this machine: its meters also measure the load generator")
            return opened
        return Opened(notes=[f"no power meter for a remote server ({host}): pass --meter with a meter of the "
                             f"server ({server_meters()}); this machine's meters would measure the client"])
    if not policy.loopback:
        for spec in specs:
            if spec.measures_here:
                raise UsageError(f"--meter {spec}: measures this machine (the load generator), not the server at "
                                 f"{host}: name a meter of the server ({server_meters()})")
    opened = Opened(_explicit(specs))
    if policy.loopback and any(s.measures_here for s in specs):
        opened.notes.append("server on this machine: its meters also measure the load generator")
    return opened


def _wall(specs: dict[str, MeterSpec], policy: Policy) -> Opened:
    what = policy.machine
    for machine, spec in specs.items():
        if spec.measures_here:
            raise UsageError(f"--meter {spec}: measures this host, not the {what} {machine}: give its PDU outlet or "
                             "wall meter (e.g. snmp:PDU,outlet=N)")
    opened = Opened()
    try:
        for machine, spec in specs.items():
            try:
                meters = open_spec(spec)
            except NoReading as exc:  # the device did not answer: this machine fails, the others go on
                opened.failed[machine] = f"wall meter {spec}: {exc}"
                continue
            except MeterUnavailable as exc:
                raise UsageError(f"--meter {spec} ({what} {machine}): {exc}") from None
            opened.meters.extend(meters)
            if len(meters) != 1 or meters[0].scope != "wall":
                raise UsageError(f"--meter {spec}: measures {', '.join(m.scope for m in meters)}, not the wall power "
                                 f"of the {what} {machine}: give its PDU outlet or wall meter (e.g. snmp:PDU,outlet=N)")
            opened.by_machine[machine] = meters[0]
    except BaseException:
        opened.close()
        raise
    return opened


def discover(specs: list[str] | None = None, keep_modelled: bool = False,
             device: str | None = None) -> tuple[list[Meter], list[Unavailable]]:
    """``open_meters(specs, Policy.here(device, keep_modelled=...))`` as ``(meters, unavailable)``.

    Kept for the callers not yet on :func:`open_meters` (the pytest plugin, ``sitebench miners --meter``).
    """
    opened = open_meters(specs, Policy.here(device, keep_modelled=keep_modelled))
    return opened.meters, opened.unavailable
