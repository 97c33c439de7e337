"""Wall power from a rack PDU over SNMP (v2c or v3): the whole PDU (all inputs summed) or one outlet.

``--meter snmp:HOST[:PORT][,community=C][,outlet=N][,mib=auto|apc|raritan|servertech|eaton]
[,user=U][,auth=sha][,priv=aes][,context=NAME][,period=S][,timeout=S]``

Per MIB, device / outlet active power (energy counter): APC PowerNet-MIB rPDU2DeviceStatusPower
(0.01 kW) / rPDU2OutletMeteredStatusPower (W) (0.1 kWh); Raritan PDU2-MIB measurementsInlet- /
OutletSensorValue activePower, scaled by the sensor's decimal digits (activeEnergy, Wh); ServerTech
Sentry4-MIB st4InputCordActivePower / st4OutletActivePower (0.1 kWh cord, Wh outlet); Eaton
EATON-EPDU-MIB inputTotalWatts / outletWatts (Wh). ``mib=auto`` picks the MIB from sysObjectID.
``outlet=N`` is the outlet's number (APC's rPDU2OutletMeteredStatusNumber; elsewhere the last index
of the first PDU or cord having it) or a full index (``outlet=1.1.5``).

Accuracy: APC AP8xxx +/-3% of reading +/-1 digit (Schneider FAQ FA156074; outlets under 50 W read
0); Raritan states each sensor's accuracy in the MIB (read at probe); ServerTech and Eaton state
none: unstated. No MIB states an update period: 1 s is assumed (``period=S``). The energy counters
go into ``Reading.extra`` (``pdu_energy_j``, ``pdu_energy_resolution_j``), not the window's counter:
0.1 kWh is too coarse for minutes-long windows.

Credentials: the v2c community (``community=``, else ``SNMP_COMMUNITY``, else ``public``); v3 with
``user=`` (or ``SNMP_USER``) takes its keys from ``SNMP_AUTH_KEY`` / ``SNMP_PRIV_KEY`` only. No
credential is in the meter's name, provenance or errors. Requests run on one shared asyncio thread;
each meter fetches in its own background thread (:mod:`~bench.power.meters.heldpower`), so an
unreachable PDU is a gap and the run goes on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine, Mapping
from typing import Any, ClassVar, TypeVar

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.meter import Meter, NoReading, Reading
from bench.power.meters.heldpower import HeldPowerMeter
from bench.power.meters.snmp_mibs import MIBS, Mib, Table
from bench.power.spec import MeterSpec

T = TypeVar("T")
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
DEFAULT_PERIOD_S = 1.0
DEFAULT_TIMEOUT_S = 2.0
__all__ = ["MIBS", "Mib", "SnmpClient", "SnmpMeter", "Table", "find_outlets", "find_rows", "open_spec", "pick_mib",
           "sensor_scales"]


_AUTH = {"md5": "usmHMACMD5AuthProtocol", "sha": "usmHMACSHAAuthProtocol", "sha256": "usmHMAC192SHA256AuthProtocol",
         "sha512": "usmHMAC384SHA512AuthProtocol"}
_PRIV = {"des": "usmDESPrivProtocol", "aes": "usmAesCfb128Protocol", "aes256": "usmAesCfb256Protocol"}


class _Loop:
    """One asyncio loop in a daemon thread, and one SNMP engine per credential kind, for every meter."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None
    engines: ClassVar[dict[str, Any]] = {}

    @classmethod
    def run(cls, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        with cls._lock:
            if cls._loop is None:
                cls._loop = asyncio.new_event_loop()
                threading.Thread(target=cls._loop.run_forever, name="sitebench-snmp", daemon=True).start()
        future = asyncio.run_coroutine_threadsafe(coro, cls._loop)
        try:
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise MeterReadError(f"no SNMP answer within {timeout_s:g} s") from None
        except Exception as exc:  # noqa: BLE001 - a resolver or transport failure inside pysnmp is one line
            raise exc if isinstance(exc, MeterReadError) else MeterReadError(f"{type(exc).__name__}: {exc}") from None


class SnmpClient:
    """GET and WALK against one agent; every failure is :class:`MeterReadError`, without credentials."""

    def __init__(self, host: str, port: int, options: Mapping[str, str], timeout_s: float) -> None:
        """``options``: the snmp meter's options as text (``user``, ``auth``, ``priv``, ``community``, ``context``)."""
        from pysnmp.hlapi.v3arch import asyncio as hl  # type: ignore[import-untyped]

        self.hl, self.where, self.timeout_s = hl, f"{host}:{port}", timeout_s
        user = options.get("user") or os.environ.get("SNMP_USER")
        if user:
            auth_key, priv_key = os.environ.get("SNMP_AUTH_KEY"), os.environ.get("SNMP_PRIV_KEY")
            a, p = options.get("auth", "sha").lower(), options.get("priv", "aes").lower()
            if a not in _AUTH or p not in _PRIV:
                raise MeterUnavailable(f"auth={a} or priv={p} not supported (auth: {', '.join(_AUTH)}; priv: {', '.join(_PRIV)})")
            if not auth_key:
                raise MeterUnavailable("SNMPv3 user given: set SNMP_AUTH_KEY (and SNMP_PRIV_KEY for privacy)")
            self.auth: Any = hl.UsmUserData(user, auth_key, priv_key, authProtocol=getattr(hl, _AUTH[a]),
                                            privProtocol=getattr(hl, _PRIV[p] if priv_key else "usmNoPrivProtocol"))
        else:
            self.auth = hl.CommunityData(options.get("community") or os.environ.get("SNMP_COMMUNITY") or "public")
        self.context = hl.ContextData(contextName=options.get("context", ""))
        self.engine_key = f"v3:{user}" if user else "v2c"  # an engine holds one key set per v3 user name
        self.engine, self.target, self.host, self.port = None, None, host, port

    async def _setup(self) -> None:
        if self.engine is None:
            key = self.engine_key
            self.engine = _Loop.engines.get(key) or _Loop.engines.setdefault(key, self.hl.SnmpEngine())
            self.target = await self.hl.UdpTransportTarget.create((self.host, self.port), timeout=self.timeout_s, retries=1)

    def _fail(self, indication: Any) -> MeterReadError:
        text, low = str(indication), f"{type(indication).__name__} {indication}".lower()
        if "timeout" in low or "no snmp response" in low:
            text = f"no answer within {self.timeout_s:g} s, tried twice (unreachable, or a wrong community)"
        elif any(k in low for k in ("digest", "unknownusername", "unknown usm user", "decrypt", "authentication")):
            text = f"SNMPv3 credentials refused ({text})"
        return MeterReadError(f"snmp {self.where}: {text}")

    async def _get(self, oids: list[str]) -> dict[str, Any]:
        await self._setup()
        hl = self.hl
        error, status, _, binds = await hl.get_cmd(self.engine, self.auth, self.target, self.context,
                                                   *(hl.ObjectType(hl.ObjectIdentity(o)) for o in oids))
        if error or status:
            raise self._fail(error or status.prettyPrint())
        return {str(name): value for name, value in binds}

    async def _walk(self, column: str) -> dict[str, Any]:
        await self._setup()
        hl, out = self.hl, {}
        async for error, status, _, binds in hl.walk_cmd(self.engine, self.auth, self.target, self.context,
                                                         hl.ObjectType(hl.ObjectIdentity(column)), lexicographicMode=False):
            if error or status:
                raise self._fail(error or status.prettyPrint())
            out.update({str(name): value for name, value in binds})
        return out

    def get(self, oids: list[str]) -> dict[str, float | str | None]:
        """Values by OID: numbers as floats, strings as str, a missing object as None."""
        raw = _Loop.run(self._get(oids), 2 * self.timeout_s + 5)
        return {o: _value(raw.get(o)) for o in oids}

    def walk(self, column: str) -> dict[str, float | str | None]:
        """Every row of a table column: ``{row index: value}``."""
        raw = _Loop.run(self._walk(column), 10 * self.timeout_s + 5)
        return {oid[len(column) + 1:]: _value(v) for oid, v in raw.items()}


def _value(v: Any) -> float | str | None:
    if v is None or type(v).__name__ in ("NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null"):
        return None
    try:
        return float(int(v))
    except (TypeError, ValueError):
        return str(v)


def pick_mib(client: SnmpClient, name: str) -> tuple[str, Mib]:
    """The MIB named, or the one sysObjectID's enterprise points at (``auto``); else MeterUnavailable."""
    if name != "auto":
        if name not in MIBS:
            raise MeterUnavailable(f"mib={name!r} unknown (known: auto, {', '.join(MIBS)})")
        return name, MIBS[name]
    oid = str(client.get([SYS_OBJECT_ID])[SYS_OBJECT_ID] or "")
    for key, mib in MIBS.items():
        if oid == mib.enterprise or oid.startswith(mib.enterprise + "."):
            return key, mib
    raise MeterUnavailable(f"snmp {client.where}: sysObjectID {oid or '(none)'} is not a PDU this meter knows "
                           f"(apc, raritan, servertech, eaton): give mib=NAME if it speaks one of them")


def find_rows(client: SnmpClient, mib: Mib, table: Table, outlet: str | None) -> list[str]:
    """The row indexes (without sensor suffix) to sum: every inlet/cord, or the one outlet (else MeterUnavailable)."""
    return list(find_outlets(client, mib, table, [outlet]).values()) if outlet else _rows(client, table, False)


def _rows(client: SnmpClient, table: Table, outlets: bool) -> list[str]:
    rows = [r[: len(r) - len(table.suffix)] for r, v in client.walk(table.power).items()
            if r.endswith(table.suffix) and v is not None]
    if not rows:
        raise MeterUnavailable(f"snmp {client.where}: no {'outlet' if outlets else 'input'} power in the MIB "
                               f"({table.power}): not this vendor's PDU, or not a metered one")
    return rows


def find_outlets(client: SnmpClient, mib: Mib, table: Table, outlets: list[str]) -> dict[str, str]:
    """``{outlet: row index}`` for outlet numbers (APC's rPDU2OutletMeteredStatusNumber; elsewhere the last
    index of the first PDU or cord having it) or full indexes, from one walk; else MeterUnavailable."""
    rows = _rows(client, table, True)
    numbers = client.walk(mib.outlet_number) if mib.outlet_number and any("." not in o for o in outlets) else {}
    found: dict[str, str] = {}
    for outlet in outlets:
        if "." in outlet:
            match = [r for r in rows if r == outlet]
        elif mib.outlet_number:
            match = [r for r in rows if numbers.get(r) == float(outlet)]
        else:
            match = [r for r in rows if r.rsplit(".", 1)[-1] == outlet]
        if not match:
            raise MeterUnavailable(f"snmp {client.where}: outlet {outlet} has no power reading ({len(rows)} metered "
                                   f"outlets: indexes {', '.join(rows[:8])}{'...' if len(rows) > 8 else ''})")
        found[outlet] = match[0]
    return found


def sensor_scales(client: SnmpClient, table: Table, rows: list[str]) -> list[tuple[float, float | None]]:
    """Per row: W per unit of its power column and the accuracy its sensor states (Raritan, read here), else
    ``(table.watts, None)``."""
    if not (table.digits and table.accuracy):
        return [(table.watts, None)] * len(rows)
    got = list(client.get([f"{c}.{r}{table.suffix}" for c in (table.digits, table.accuracy) for r in rows]).values())
    digits, stated = got[: len(rows)], got[len(rows):]
    return [(table.watts * 10.0 ** -d if isinstance(d, float) else table.watts,
             a / 1e4 if isinstance(a, float) and a > 0 else None) for d, a in zip(digits, stated)]


class SnmpMeter(HeldPowerMeter):
    """Active power of a PDU (all inputs) or of one outlet, fetched in the background."""

    kind = "snmp"

    def __init__(self, host: str, port: int, spec: MeterSpec) -> None:
        timeout_s, period_s = spec.number("timeout"), spec.number("period")
        outlet = spec.word("outlet")
        self.client = SnmpClient(host, port, spec.strings(), timeout_s)
        self.mib_name, mib = pick_mib(self.client, spec.word("mib") or "auto")
        t = mib.outlet if outlet else mib.device
        self.rows = find_rows(self.client, mib, t, outlet)
        self.power_oids = [f"{t.power}.{r}{t.suffix}" for r in self.rows]
        self.energy_oids = [f"{t.energy}.{r}{t.energy_suffix}" for r in self.rows] if t.energy else []
        scales = sensor_scales(self.client, t, self.rows)  # Raritan: each sensor states its digits and accuracy
        stated = [a for _, a in scales if a is not None]
        self.joules, self.scale_w = t.joules, [w for w, _ in scales]
        accuracy = max(stated) if stated else None if t.digits else mib.accuracy
        self._extra: dict[str, Any] = {}
        what = f"outlet {outlet}" if outlet else f"PDU ({len(self.rows)} input(s))"
        super().__init__(f"snmp:{host}" + (f":outlet{outlet}" if outlet else ""), "wall", accuracy=accuracy,
                         accuracy_note=f"{self.mib_name} {what} at {host} over SNMP: {mib.note}; update period "
                         f"{period_s:g} s{'' if spec.given('period') else ' assumed (the MIB states none)'}",
                         update_period_s=period_s, timeout_s=2 * timeout_s + 5)
        self.accuracy_w = t.lsd_w
        try:
            self.prime()
        except MeterReadError:
            self.close()
            raise

    def fetch(self) -> float:
        got = self.client.get(self.power_oids + self.energy_oids)
        watts = [w for w in (got[o] for o in self.power_oids) if isinstance(w, float) and w >= 0]
        if len(watts) < len(self.power_oids):
            raise MeterReadError(f"snmp {self.client.where}: power not available "
                                 f"({', '.join(str(got[o]) for o in self.power_oids)})")
        energy = [e for e in (got[o] for o in self.energy_oids) if isinstance(e, float) and e >= 0]
        self._extra = ({"pdu_energy_j": sum(energy) * self.joules, "pdu_energy_resolution_j": self.joules}
                       if energy and len(energy) == len(self.energy_oids) else {})
        return sum(w * s for w, s in zip(watts, self.scale_w))

    def read(self) -> Reading:
        reading = super().read()
        return Reading(t=reading.t, power_w=reading.power_w, extra={**reading.extra, **self._extra})


def open_spec(spec: MeterSpec) -> list[Meter]:
    """The PDU (or outlet) named by ``snmp:HOST[:PORT][,option...]``.

    Raises:
        MeterUnavailable: a target that is not HOST[:PORT], a device that is not a known PDU, an outlet it
            does not have, v3 without its keys; :class:`NoReading` when the PDU does not answer (or refuses
            the credentials); one line, without credentials.
    """
    main = spec.target or ""
    host, _, port = main.rpartition(":") if ":" in main else (main, "", "161")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise MeterUnavailable(f"{main!r} is not HOST or HOST:PORT")
    try:
        return [SnmpMeter(host, int(port), spec)]
    except MeterReadError as exc:
        raise NoReading(str(exc)) from None
