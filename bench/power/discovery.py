"""Finding the meters that work on this machine, and why others do not."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from bench.errors import MeterUnavailable, UsageError
from bench.power.meter import Meter

#: Back-ends probed by default, in order; each module has ``probe(arg=None)`` and may have
#: ``device_arg(device) -> str | None``, the argument to probe with by default for a run on
#: ``device`` (nvml: only the GPU the run uses).
BACKENDS: dict[str, str] = {
    "rapl": "bench.power.meters.rapl",
    "nvml": "bench.power.meters.nvml",
    "model": "bench.power.meters.modelled",
    "ipmi": "bench.power.meters.ipmi",
    "redfish": "bench.power.meters.redfish",
    "csv": "bench.power.meters.csvlog",
    "prometheus": "bench.power.meters.prometheus",
    "snmp": "bench.power.meters.snmp",
}


@dataclass(frozen=True)
class Unavailable:
    """A back-end that cannot work here, with the reason."""

    name: str
    reason: str


#: Meter options whose values are secrets: never printed (an SNMP community is a password).
SECRET_OPTIONS = ("community", "password", "auth_key", "priv_key", "token")


def redact(spec: str) -> str:
    """``snmp:pdu,community=s3cret`` -> ``snmp:pdu,community=***``: a meter spec fit to print."""
    return re.sub(rf"\b({'|'.join(SECRET_OPTIONS)})=[^,]*", r"\1=***", spec)


def _probe_fn(name: str) -> Callable[..., list[Meter]]:
    if name not in BACKENDS:
        raise UsageError(f"unknown meter {name!r} (known: {', '.join(BACKENDS)})")
    return importlib.import_module(BACKENDS[name]).probe


def _default_arg(name: str, device: str | None) -> str:
    fn = getattr(importlib.import_module(BACKENDS[name]), "device_arg", None)
    return (fn(device) or "") if fn and device else ""


def discover(specs: list[str] | None = None, keep_modelled: bool = False,
             device: str | None = None) -> tuple[list[Meter], list[Unavailable]]:
    """Open meters.

    Args:
        specs: ``NAME[:ARG]`` strings chosen by the user; None means every
            back-end that works here.
        keep_modelled: keep the modelled estimate even when a measured meter
            works (``sitebench list`` shows it; a run drops it).
        device: the device a run uses; by default a back-end then opens only
            the meters of that device where it can tell (``nvml``: that GPU).

    Returns:
        The working meters and the back-ends that could not be opened.

    Raises:
        UsageError: when a meter the user named explicitly cannot be opened.
    """
    meters: list[Meter] = []
    unavailable: list[Unavailable] = []
    explicit = specs is not None
    for spec in specs if specs is not None else list(BACKENDS):
        name, _, arg = spec.partition(":")
        probe = _probe_fn(name)
        if not explicit:
            arg = _default_arg(name, device)
        try:
            meters.extend(probe(arg) if arg else probe())
        except MeterUnavailable as exc:
            if explicit:
                raise UsageError(f"--meter {redact(spec)}: {exc}") from None
            unavailable.append(Unavailable(name, str(exc)))
    if not explicit and not keep_modelled and any(m.measured for m in meters):
        meters = [m for m in meters if m.measured]
    return meters, unavailable
