"""A journal read across the file boundary: every line is checked before anything in it is believed.

A journal is outside input like any other: a crash, a full disk, a bad block or a hand can damage it.
Each line crosses one boundary, in this order, and a line that fails a step is one :class:`Damage`
(its line number, its bytes, why) while the rest of the journal goes on:

1. a byte limit per line (:data:`~bench.measure.journal.MAX_LINE_BYTES`; a longer line is skipped
   without being held in memory) and per journal (:data:`~bench.measure.journal.MAX_JOURNAL_BYTES`;
   reading stops there and the rest is reported);
2. its checksum (:func:`bench.measure.journal.unframe`), where the journal has them: in a journal
   whose lines carry checksums, a line without one is damage too;
3. UTF-8, a nesting limit (:data:`~bench.measure.journal.MAX_DEPTH`), strict JSON: no NaN or
   infinities, no number beyond a float, no integer of more than 20 digits, no key twice in one object;
4. typed, bounded values for its ``type``, under the record's own bounds (:mod:`bench.record.bounds`):
   a ``window`` of zero or negative duration, a ``reading`` without ``t`` or of NaN watts, a ``run``
   that is not a valid run record are all refused here. Front ends' own line types (``miners``,
   ``poll``) come back as plain objects for the front end to type (:func:`bench.measure.recover.register`).
   Temperature lines (``thermal-source``, ``thermal``, ``thermal-gap``, ``meter-channels``) are typed
   against the thermal record's own words (sources, roles, units) and bounds.

The last line of a journal is the one a crash can cut short: when it has no newline and does not
read, it is reported as cut short, which is not a loss (it was never complete).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bench.errors import UsageError
from bench.measure.journal import MAX_DEPTH, MAX_JOURNAL_BYTES, MAX_LINE_BYTES, unframe
from bench.measure.runrecord import RunHead
from bench.power.channels import Channel, MeterChannel
from bench.power.meter import Reading
from bench.power.sampler import Gap
from bench.record import Document, Hardware, MeterFigure, Run
from bench.record.bounds import (
    MAX_ITEMS,
    MAX_METERS,
    MAX_WINDOWS,
    Gauge,
    Joules,
    Name,
    Params,
    ParamValue,
    PositiveSeconds,
    Text,
    Timestamp,
    Units,
    Watts,
)
from bench.record.io import first_error
from bench.record.thermal import MAX_CHANNELS, Role, SourceKind, ThermalUnit

#: The temperature lines (:mod:`bench.power.thermal.sampler`, :meth:`bench.power.sampler.Sampler.declare`).
THERMAL_KINDS = ("thermal-source", "thermal", "thermal-gap", "meter-channels")
#: The line types of the runner's journal; a front end registers its own (``miners``, ``poll``).
CORE_KINDS = ("header", "run-start", "window", "reading", "gap", "marker", "run", *THERMAL_KINDS)
#: The longest integer (digits) a line may hold: counters and sequence numbers are far below it.
MAX_INT_DIGITS = 20
#: A ``time.monotonic()`` in a journal: finite and within this many seconds of zero.
MAX_CLOCK_S = 1e12


@dataclass(frozen=True)
class Limits:
    """What one journal is read under (each with its documented default)."""

    line_bytes: int = MAX_LINE_BYTES
    journal_bytes: int = MAX_JOURNAL_BYTES
    depth: int = MAX_DEPTH


@dataclass(frozen=True, slots=True)
class Line:
    """One line that crossed the boundary: its line number in the file, sequence number, type and typed value."""

    no: int
    n: int | None
    kind: str
    value: Any
    nbytes: int
    crc: bytes = b""


@dataclass
class Damage:
    """A line (or lines) of the journal that could not be used, and why.

    ``no`` is the 1-based line number in the file (0: not one line, such as lines missing from the
    sequence); ``cut``: the last line, cut short by the crash (never complete, so not a loss);
    ``lost``: what it held is not in the result (False for a repeated line or one put back in order);
    ``kind``: the type the line says it has, when it could be read at all (not to be trusted);
    ``outcome``: what became of what it held (``the run ... rebuilt from its windows``).
    """

    no: int
    reason: str
    nbytes: int = 0
    lines: int = 1
    cut: bool = False
    lost: bool = True
    kind: str | None = None
    device: str | None = None
    outcome: str = ""
    #: where it sits among the good lines (the index in sequence order of the line after it)
    at: int = 0


@dataclass(frozen=True)
class Header:
    document: Document
    meters: list[MeterFigure]


@dataclass(frozen=True)
class RunStart:
    tag: str
    head: RunHead


@dataclass(frozen=True)
class Window:
    tag: str
    index: int
    units: float
    duration_s: float


@dataclass(frozen=True)
class MeterReading:
    meter: str
    reading: Reading


@dataclass(frozen=True)
class MeterGap:
    meter: str
    gap: Gap


@dataclass(frozen=True)
class MarkerLine:
    phase: str
    t: float


@dataclass(frozen=True)
class ThermalSourceLine:
    """A temperature source as it started: its name, kind, poll period, notes and channels."""

    source: str
    kind: SourceKind
    period_s: float
    local: bool
    notes: list[str]
    channels: list[Channel]


@dataclass(frozen=True)
class ThermalReading:
    """One reading of a temperature source: its channels' values by channel name."""

    source: str
    t: float
    values: dict[str, float]


@dataclass(frozen=True)
class ThermalGap:
    """A failed read of a temperature source."""

    source: str
    t: float
    reason: str


@dataclass(frozen=True)
class MeterChannels:
    """The temperatures a power meter reads with its power (its readings' ``extra`` keys)."""

    meter: str
    channels: list[MeterChannel]


@dataclass
class FileRead:
    """A journal as it crossed the boundary: its good lines in file order, and the damage."""

    lines: list[Line] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)
    #: The journal's lines carry checksums (any line with a good one says so).
    checked: bool = False
    total_bytes: int = 0
    total_lines: int = 0


# --- typed, bounded line values ---------------------------------------------------------------------------

Clock = Annotated[float, Field(ge=-MAX_CLOCK_S, le=MAX_CLOCK_S)]


class _Typed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class _Header(_Typed):
    type: Literal["header"]
    document: Document
    meters: Annotated[list[MeterFigure], Field(max_length=MAX_METERS)] = []


class _Head(_Typed):
    workload: Name
    device: Name
    unit: Name
    params: Params = {}
    preset: Name | None = None
    started: Timestamp | None = None
    hardware: Hardware | None = None


class _RunStart(_Typed):
    type: Literal["run-start"]
    tag: Name
    head: _Head


class _Window(_Typed):
    type: Literal["window"]
    tag: Name
    index: Annotated[int, Field(ge=0, le=MAX_WINDOWS)]
    units: Units
    duration_s: PositiveSeconds


class _Reading(_Typed):
    type: Literal["reading"]
    meter: Name
    t: Clock
    energy_j: Joules | None = None
    power_w: Watts | None = None
    extra: Annotated[dict[Name, ParamValue], Field(max_length=256)] = {}


class _Gap(_Typed):
    type: Literal["gap"]
    meter: Name
    t: Clock
    reason: Text = ""
    discontinuity: bool = False


class _Marker(_Typed):
    type: Literal["marker"]
    phase: Name
    t: Clock


class _Run(_Typed):
    type: Literal["run"]
    run: Run


class _Sensor(_Typed):
    key: Name
    role: Role
    unit: ThermalUnit
    sensor: Text = ""
    thresholds: Annotated[dict[Name, Gauge], Field(max_length=16)] = {}


class _Channel(_Sensor):
    device: Name


class _MeterChannel(_Sensor):
    extra: Name


class _ThermalSource(_Typed):
    type: Literal["thermal-source"]
    source: Name
    kind: SourceKind
    period_s: PositiveSeconds
    local: bool = False
    notes: Annotated[list[Text], Field(max_length=MAX_ITEMS)] = []
    channels: Annotated[list[_Channel], Field(max_length=MAX_CHANNELS)]


class _Thermal(_Typed):
    type: Literal["thermal"]
    source: Name
    t: Clock
    values: Annotated[dict[Name, Gauge], Field(max_length=MAX_CHANNELS)] = {}


class _ThermalGap(_Typed):
    type: Literal["thermal-gap"]
    source: Name
    t: Clock
    reason: Text = ""


class _MeterChannels(_Typed):
    type: Literal["meter-channels"]
    meter: Name
    channels: Annotated[list[_MeterChannel], Field(max_length=MAX_CHANNELS)]


def _thermal(kind: str, obj: dict[str, Any]) -> Any:
    """The typed value of a temperature line. Raises: ValidationError."""
    if kind == "thermal":
        r = _Thermal.model_validate(obj)
        return ThermalReading(r.source, r.t, dict(r.values))
    if kind == "thermal-gap":
        g = _ThermalGap.model_validate(obj)
        return ThermalGap(g.source, g.t, g.reason)
    if kind == "thermal-source":
        s = _ThermalSource.model_validate(obj)
        return ThermalSourceLine(s.source, s.kind, s.period_s, s.local, list(s.notes),
                                 [Channel(c.device, c.key, c.role, c.unit, c.sensor, dict(c.thresholds))
                                  for c in s.channels])
    m = _MeterChannels.model_validate(obj)
    return MeterChannels(m.meter, [MeterChannel(c.extra, c.key, c.role, c.unit, c.sensor, dict(c.thresholds))
                                   for c in m.channels])


def _typed(kind: str, obj: dict[str, Any]) -> Any:
    """The typed value of a core line. Raises: ValidationError."""
    if kind in THERMAL_KINDS:
        return _thermal(kind, obj)
    if kind == "reading":
        r = _Reading.model_validate(obj)
        return MeterReading(r.meter, Reading(t=r.t, energy_j=r.energy_j, power_w=r.power_w, extra=dict(r.extra)))
    if kind == "marker":
        m = _Marker.model_validate(obj)
        return MarkerLine(m.phase, m.t)
    if kind == "window":
        w = _Window.model_validate(obj)
        return Window(w.tag, w.index, w.units, w.duration_s)
    if kind == "gap":
        g = _Gap.model_validate(obj)
        return MeterGap(g.meter, Gap(g.t, g.reason, g.discontinuity))
    if kind == "run":
        return _Run.model_validate(obj).run
    if kind == "run-start":
        s = _RunStart.model_validate(obj)
        h = s.head
        return RunStart(s.tag, RunHead(h.workload, h.device, h.unit, dict(h.params), h.preset, h.started, h.hardware))
    h2 = _Header.model_validate(obj)
    return Header(h2.document, list(h2.meters))


# --- strict, bounded JSON ---------------------------------------------------------------------------------

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def too_deep(text: str, limit: int) -> bool:
    """True when JSON ``text`` opens objects and arrays deeper than ``limit`` (brackets in strings do not count).

    The depth is the running count of opening less closing brackets, taken in one vectorised pass: no
    recursion, whatever the input (balanced or not).
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode()
    steps = np.frombuffer(brackets, dtype=np.uint8)
    opens = (steps == ord("[")) | (steps == ord("{"))
    depth = np.cumsum(opens.astype(np.int8) * 2 - 1, dtype=np.int32)
    return bool(depth.size) and int(depth.max()) > limit


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is beyond a float")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"key {twice[:60]!r} appears twice in one object")
    return obj


_DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_float, parse_int=_int, object_pairs_hook=_object)


def loads(body: bytes, depth: int = MAX_DEPTH) -> Any:
    """Strict, bounded JSON. Raises: ValueError (with the reason), for anything outside the bounds."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    if too_deep(text, depth):
        raise ValueError(f"nested deeper than {depth} objects and arrays")
    try:
        return _DECODER.decode(text)
    except RecursionError:  # below the depth limit this cannot happen; kept as the boundary's promise
        raise ValueError("nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None


# --- the boundary -----------------------------------------------------------------------------------------

def _line(no: int, raw: bytes, limits: Limits, kinds: Collection[str]) -> Line | Damage | None:
    """One line across the boundary (``raw`` within the line limit, with its newline if it has one); None
    for a blank line (nothing in it to lose)."""
    nbytes = len(raw)
    body, good = unframe(raw)
    if not body.strip():
        return None
    if good is False:
        damage = Damage(no, "bad checksum: the line was changed after it was written", nbytes, kind=_kind_hint(body, kinds))
        try:  # what it says it is, only to say what was lost (nothing in it is used)
            obj = loads(body, limits.depth)
            run = obj.get("run") if isinstance(obj, dict) else None
            damage.device = str(run.get("device"))[:200] if isinstance(run, dict) and run.get("device") else None
        except ValueError:
            pass
        return damage
    try:
        obj = loads(body, limits.depth)
    except ValueError as exc:
        return Damage(no, str(exc)[:300], nbytes, kind=_kind_hint(body, kinds))
    if not isinstance(obj, dict):
        return Damage(no, f"a JSON {type(obj).__name__}, not an object", nbytes)
    kind = obj.get("type")
    if not isinstance(kind, str) or (kind not in CORE_KINDS and kind not in kinds):
        return Damage(no, f"no known line type ({str(kind)[:40]!r})", nbytes)
    n = obj.pop("n", None)
    if good and (type(n) is not int or not 0 <= n <= 2**53):
        return Damage(no, "a checksum but no sequence number", nbytes, kind=kind)
    try:
        value = obj if kind not in CORE_KINDS else _typed(kind, obj)
    except ValidationError as exc:
        return Damage(no, f"a {kind} line that fails its types ({first_error(exc)})"[:400], nbytes, kind=kind)
    return Line(no, n if good else None, kind, value, nbytes, raw[-10:-2] if good else b"")


_KIND = re.compile(rb'"type": ?"([a-z-]{1,20})"')


def _kind_hint(body: bytes, kinds: Collection[str]) -> str | None:
    """The type a line that did not read names near its start, when it is a known one (to say what was lost only)."""
    m = _KIND.search(body, 0, 64)
    kind = m.group(1).decode() if m else None
    return kind if kind in CORE_KINDS or kind in kinds else None


def _skip_rest(fh: Any, chunk: int = 1 << 20) -> tuple[int, bool]:
    """Read past the rest of an over-long line without keeping it: (bytes skipped, whether a newline ended it)."""
    skipped = 0
    while True:
        part = fh.readline(chunk)
        skipped += len(part)
        if not part or part.endswith(b"\n"):
            return skipped, bool(part)


def read_file(path: Path, limits: Limits = Limits(), kinds: Collection[str] = ()) -> FileRead:
    """Every line of the journal at ``path`` across the boundary (``kinds``: front ends' own line types).

    Raises:
        UsageError: the file cannot be opened or read.
    """
    out = FileRead()
    try:
        with path.open("rb") as fh:
            no = 0
            while raw := fh.readline(limits.line_bytes + 1):
                no += 1
                over = len(raw) > limits.line_bytes and not raw.endswith(b"\n")
                nbytes = len(raw)
                ended = raw.endswith(b"\n")
                if over:
                    skipped, ended = _skip_rest(fh)
                    nbytes += skipped
                if out.total_bytes + nbytes > limits.journal_bytes:
                    rest = path.stat().st_size - out.total_bytes
                    out.damage.append(Damage(no, f"the journal goes on past the {limits.journal_bytes} byte limit: "
                                                 f"{rest} bytes from here on not read (sitebench recover --max-bytes "
                                                 "reads more)", rest, lines=0))
                    out.total_bytes += rest
                    break
                out.total_bytes += nbytes
                if over:
                    out.damage.append(Damage(no, f"a line of {nbytes} bytes, over the {limits.line_bytes} byte line "
                                                 "limit (sitebench recover --max-line-bytes reads longer ones)", nbytes))
                    continue
                got = _line(no, raw, limits, kinds)
                if isinstance(got, Line):
                    out.lines.append(got)
                    out.checked = out.checked or got.n is not None
                elif got is not None:
                    if not ended:  # the last line, with no newline: the crash cut it short
                        got.cut, got.lost = True, False
                        got.reason = f"cut short by the crash (the last line, never complete: {got.reason})"
                    out.damage.append(got)
            out.total_lines = no
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the journal ({exc.strerror or exc})") from None
    out.checked = out.checked or any(d.reason.startswith("bad checksum") for d in out.damage)
    if out.checked:  # a line without a checksum among lines with one was damaged where its checksum was
        out.damage.extend(Damage(x.no, "no checksum, where the journal's other lines have one", x.nbytes, kind=x.kind)
                          for x in out.lines if x.n is None)
        out.lines = [x for x in out.lines if x.n is not None]
    out.damage.sort(key=lambda d: d.no)
    return out
