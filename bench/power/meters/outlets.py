"""Each miner's own PDU outlet as its wall meter: the outlet map and one SNMP request per PDU.

The map (``--outlets MAP.csv``) has one line per machine: ``machine host, PDU host[:port], outlet``
and optionally more columns of PDU options, one ``key=value`` each (``mib=apc, period=1``): the
``snmp`` meter's options, checked by its declaration (:func:`bench.power.spec.outlet_spec`), the
same grammar as ``--meter``. A header line (``miner,pdu,outlet``) and ``#`` comments are allowed.
Credentials never go in the map: the v2c community comes from
``SNMP_COMMUNITY``, SNMPv3 keys from ``SNMP_AUTH_KEY`` / ``SNMP_PRIV_KEY``.

Every PDU is opened once (its MIB picked, its outlet table walked once) and read with one GET
of all its mapped outlets per period by the power layer's :class:`~bench.power.poller.Poller`; each outlet is a
:class:`OutletMeter` (scope ``wall``) that returns the PDU's latest figure for it at once,
like any held-power meter: a failed or stale fetch is a gap, never a 0.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

from bench.errors import MeterReadError, MeterUnavailable, UsageError
from bench.power.meter import Meter, Reading
from bench.power.meters.args import float_option
from bench.power.meters.snmp import (
    DEFAULT_PERIOD_S,
    DEFAULT_TIMEOUT_S,
    SnmpClient,
    find_outlets,
    pick_mib,
    sensor_scales,
)
from bench.power.poller import Poller
from bench.power.spec import outlet_spec

#: Varbinds per GET (a PDU answers 48 outlets in well under one UDP datagram at this size).
GET_CHUNK = 32


@dataclass(frozen=True)
class OutletEntry:
    """One line of the map: a miner, its PDU and its outlet."""

    miner: str
    pdu: str
    port: int
    outlet: str
    options: tuple[tuple[str, str], ...]
    line: int


def _options(pdu: str, outlet: str, cells: list[str], where: str) -> tuple[tuple[str, str], ...]:
    """The PDU options of one map line, checked as an ``snmp`` spec (credentials refused: they come from the
    environment, SNMP_COMMUNITY or SNMPv3's SNMP_AUTH_KEY / SNMP_PRIV_KEY)."""
    spec = outlet_spec(pdu, outlet, [c for c in cells if c], where=where)
    return tuple((k, v) for k, v in spec.strings().items() if k != "outlet")


def read_map(path: str | Path) -> dict[str, OutletEntry]:
    """``{miner host: entry}`` from a map file; a malformed line is one UsageError naming it.

    Raises:
        UsageError: unreadable file, wrong column count, a bad outlet or port, a miner listed twice,
            two miners on one outlet, an option that is unknown or a credential.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--outlets {p}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    out: dict[str, OutletEntry] = {}
    taken: dict[tuple[str, int, str], str] = {}
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not cells or not cells[0] or cells[0].startswith("#"):
            continue
        where = f"--outlets {p}: line {n}"
        if n == 1 and cells[0].lower() in ("miner", "host", "miner host"):
            continue
        if len(cells) < 3 or not all(cells[:3]):
            raise UsageError(f"{where}: expected 'miner host, PDU host[:port], outlet[, key=value]...', got "
                             f"{len(cells)} column(s)")
        miner, pdu, outlet = cells[:3]
        host, sep, port = pdu.rpartition(":") if pdu.count(":") == 1 else (pdu, "", "")
        host = host if sep else pdu
        if sep and not (port.isdigit() and 0 < int(port) < 65536):
            raise UsageError(f"{where}: PDU port {port!r} is not a UDP port")
        if not all(part.isdigit() for part in outlet.split(".")):
            raise UsageError(f"{where}: outlet {outlet!r} is not an outlet number (N, or a full index such as 1.1.5)")
        if miner in out:
            raise UsageError(f"{where}: miner {miner} is already mapped on line {out[miner].line}")
        key = (host, int(port or 161), outlet)
        if key in taken:
            raise UsageError(f"{where}: outlet {outlet} of {pdu} is already {taken[key]}'s: one miner per outlet")
        taken[key] = miner
        out[miner] = OutletEntry(miner, host, int(port or 161), outlet, _options(pdu, outlet, cells[3:], where), n)
    if not out:
        raise UsageError(f"--outlets {p}: no miner in the map")
    return out


class Pdu:
    """One PDU: its mapped outlets read with one GET per period by a :class:`~bench.power.poller.Poller`."""

    def __init__(self, host: str, port: int, outlets: list[str], options: dict[str, str]) -> None:
        timeout_s = float_option(options, "timeout", DEFAULT_TIMEOUT_S, positive=True)
        self.period_s = float_option(options, "period", DEFAULT_PERIOD_S, positive=True)
        self.assumed_period = "period" not in options
        self.host, self.timeout_s = host, 2 * timeout_s + 5
        self.client = SnmpClient(host, port, options, timeout_s)
        self.mib_name, self.mib = pick_mib(self.client, options.get("mib", "auto").lower())
        table = self.mib.outlet
        rows = find_outlets(self.client, self.mib, table, outlets)
        scales = dict(zip(outlets, sensor_scales(self.client, table, [rows[o] for o in outlets])))
        self.oids = {o: f"{table.power}.{rows[o]}{table.suffix}" for o in outlets}
        self.scale_w = {o: scales[o][0] for o in outlets}
        self.accuracy = {o: scales[o][1] if table.digits else self.mib.accuracy for o in outlets}
        self.lsd_w = table.lsd_w
        self.poller: Poller[dict[str, float]] = Poller(self.fetch, self.period_s, name=f"pdu-{host}",
                                                       timeout_s=self.timeout_s)
        self.poller.put(self.fetch())  # a PDU that does not answer now fails its machines at once

    def fetch(self) -> dict[str, float]:
        """Every mapped outlet's power now (W), in GETs of :data:`GET_CHUNK` objects.

        Raises:
            MeterReadError: no answer, or an outlet without a reading.
        """
        names = list(self.oids)
        got: dict[str, float | str | None] = {}
        for i in range(0, len(names), GET_CHUNK):
            got.update(self.client.get([self.oids[o] for o in names[i:i + GET_CHUNK]]))
        out = {}
        for o in names:
            w = got.get(self.oids[o])
            if not isinstance(w, float) or w < 0:
                raise MeterReadError(f"snmp {self.client.where}: outlet {o} power not available ({w})")
            out[o] = w * self.scale_w[o]
        return out

    def read(self, outlet: str) -> Reading:
        """The held figure of one outlet (starts polling on first use).

        Raises:
            MeterReadError: the last fetch failed, or no fetch succeeded for two periods plus the timeout.
        """
        self.poller.start()
        latest, ok = self.poller.latest(), self.poller.last_ok()
        now = time.monotonic()
        if latest is not None and latest.error is not None:
            raise MeterReadError(latest.error)
        if ok is None or ok.value is None or now - ok.t > 2 * self.period_s + self.timeout_s:
            age = now - ok.t if ok is not None else float("inf")
            raise MeterReadError(f"snmp {self.client.where}: no answer for {age:.1f} s")
        return Reading(t=now, power_w=ok.value[outlet])

    def close(self) -> None:
        """Stop polling."""
        self.poller.stop(timeout=self.timeout_s + 1.0)


class OutletMeter(Meter):
    """One outlet of a :class:`Pdu`: the wall power of the miner plugged into it."""

    kind = "snmp"

    def __init__(self, pdu: Pdu, outlet: str) -> None:
        note = (f"{pdu.mib_name} outlet {outlet} at {pdu.host} over SNMP: {pdu.mib.note}; update period "
                f"{pdu.period_s:g} s{' assumed (the MIB states none)' if pdu.assumed_period else ''}; "
                "one GET per PDU for all its outlets")
        super().__init__(f"snmp:{pdu.host}:outlet{outlet}", "wall", accuracy=pdu.accuracy[outlet],
                         accuracy_note=note, update_period_s=pdu.period_s, method="polled", accuracy_w=pdu.lsd_w)
        self.pdu, self.outlet = pdu, outlet

    def read(self) -> Reading:
        return self.pdu.read(self.outlet)

    def close(self) -> None:
        self.pdu.close()


def open_outlets(entries: list[OutletEntry]) -> tuple[dict[str, OutletMeter], dict[str, str]]:
    """Open every PDU of ``entries`` once: ``({miner: meter}, {miner: why its PDU could not be opened})``.

    A PDU that does not answer (or refuses the credentials) fails only its miners.

    Raises:
        UsageError: the map is wrong for a PDU that answered (an unknown MIB, a device that is not a
            known PDU, an outlet it does not have, a bad option, a v3 user without its keys).
    """
    groups: dict[tuple[str, int, tuple[tuple[str, str], ...]], list[OutletEntry]] = {}
    for e in entries:
        groups.setdefault((e.pdu, e.port, e.options), []).append(e)
    meters: dict[str, OutletMeter] = {}
    failed: dict[str, str] = {}
    for (host, port, options), group in groups.items():
        try:
            pdu = Pdu(host, port, [e.outlet for e in group], dict(options))
        except MeterReadError as exc:  # no answer (unreachable, a wrong community), v3 keys refused
            failed.update({e.miner: f"outlet meter: {exc}" for e in group})
            continue
        except MeterUnavailable as exc:  # the map is wrong: unknown MIB, not a PDU, no such outlet, bad option
            raise UsageError(f"--outlets line {group[0].line} ({host}): {exc}") from None
        meters.update({e.miner: OutletMeter(pdu, e.outlet) for e in group})
    return meters, failed
