"""Forgiving decoding of what miner APIs really send, and the figures in it: typed and bounded at this edge.

Real replies are messy: trailing NUL bytes, several JSON objects back to back
(``}{``) when commands are joined with ``+``, bare ``inf``/``nan`` tokens that
are not JSON, a stray comma before ``}``, numbers sent as strings, hash rates
in H/s, MH/s, GH/s or TH/s depending on the firmware, and ``STATUS: "E"`` for
a refused command. :func:`decode` repairs only what is unambiguous; a reply
that was cut short is an error, never a partial dict. :func:`num` turns a
field into a finite float or None: ``"inf"`` and ``"nan"`` become None, never 0.

Hostile replies are refused here, as one :class:`BadReply` for that miner (the transport's byte limit
and deadlines are in :mod:`bench.miners.protocol.transport`):

- nesting deeper than :data:`MAX_DEPTH` is refused before the JSON parser sees it (no RecursionError);
  an integer of thousands of digits is refused, not converted;
- a cumulative counter (:func:`count`: hashes, share difficulty, share counts, hardware errors, uptime)
  that is present but not a finite number in ``0..`` its bound (:data:`MAX_HASHES`, :data:`MAX_DIFFICULTY`,
  :data:`MAX_COUNT`, :data:`MAX_ELAPSED_S`) refuses the poll: 1e308, inf, nan, negative, a string or a list;
- the firmware's power (:func:`power`) over :data:`MAX_POWER_W` or negative refuses the poll (0 is "not
  measured": None);
- telemetry out of its physical range (:func:`bounded`: temperatures, fans, chips, the firmware's own
  rates) is left out (None), never clipped;
- identity and layout fields are read through :func:`text`, :func:`mapping` and :func:`items`, so a wrong
  type is "not reported", never a TypeError; and every normaliser is wrapped in :func:`edge`, which turns
  anything a reply of unforeseen shape still raises into a :class:`BadReply` naming the miner.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

#: Scale of a hash rate unit prefix to H/s.
PREFIX = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}

# bare inf/nan/-nan/infinity after ':' '[' or ',' (outside strings: a quote would precede a string value)
_BARE_NONFINITE = re.compile(r"(?<=[:\[,])(\s*)-?(?:inf(?:inity)?|nan)\b", re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_LEADING_COMMA = re.compile(r"\[\s*,")
_RATE_KEY = re.compile(r"^([KMGTP]?)HS[ _](.+)$", re.IGNORECASE)
# a string, or an unterminated one to the end of the reply (so that the scan never backtracks: linear time)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")

#: Deepest nesting a reply may have (real replies nest 4 deep; Python's JSON parser recurses per level).
MAX_DEPTH = 32
#: Bounds of what one miner may report; a counter or power outside them refuses the poll.
MAX_HASHES = 1e30
"""Cumulative hashes: 1 EH/s for 30,000 years."""
MAX_RATE_HS = 1e18
"""One miner's hash rate: 1 EH/s, a thousand times the biggest unit made."""
MAX_DIFFICULTY = 1e30
"""Cumulative share difficulty (one difficulty-1 share is 2^32 hashes)."""
MAX_COUNT = 1e12
"""Shares and hardware errors (a telemetry value in a result file stays under 1e12)."""
MAX_ELAPSED_S = 1e10
"""Uptime: three centuries."""
MAX_POWER_W = 1e5
"""One miner's power: 100 kW (the biggest hydro units draw some 12 kW)."""
MAX_CHIPS = 10_000
"""Chips on one board."""
TEMP_RANGE_C = (-60.0, 250.0)
"""A temperature outside this is a sensor's fault code, not a reading (left out)."""
MAX_FAN_RPM = 100_000


class MinerError(Exception):
    """A miner could not be asked, did not answer, or answered nonsense; the message says which."""


class BadReply(MinerError):
    """The reply is not (repairable) JSON: truncated, empty or another protocol."""


class CommandFailed(MinerError):
    """The miner refused a command (``STATUS: "E"``, a non-zero v3 ``code``)."""


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether ``raw`` nests deeper than ``limit`` (brackets inside strings do not count); linear time."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # cannot nest deeper than it opens: a poll's usual reply
        return False
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    if len(brackets) <= 2 * limit:
        return False
    depth = 0
    for c in brackets:
        if c in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif depth:
            depth -= 1
    return False


def decode(raw: bytes, *, max_depth: int = MAX_DEPTH) -> list[dict[str, Any]]:
    """The JSON objects in one reply, in order (usually one; several for ``}{``-joined replies).

    Raises:
        BadReply: empty, truncated, nested deeper than ``max_depth``, an integer too long to convert,
            or not JSON objects.
    """
    if too_deep(raw, max_depth):
        raise BadReply(f"a reply nested deeper than {max_depth} levels ({len(raw)} bytes): refused unparsed")
    text = raw.replace(b"\x00", b"").decode("utf-8", errors="replace").strip()
    if not text:
        raise BadReply("empty reply")
    try:  # most replies are clean JSON: no repairs needed
        doc = json.loads(text)
        if isinstance(doc, dict):
            return [doc]
    except ValueError:
        pass
    text = _BARE_NONFINITE.sub(r"\1null", text)
    text = _LEADING_COMMA.sub("[", _TRAILING_COMMA.sub(r"\1", text))
    decoder, objects, pos = json.JSONDecoder(), [], 0
    while pos < len(text):
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            cut_short = exc.pos >= len(text) - 1 or exc.msg.startswith("Unterminated string")
            what = "truncated JSON" if cut_short else f"not JSON at byte {exc.pos}"
            raise BadReply(f"{what} ({len(raw)} bytes): {text[:60]!r}") from None
        except ValueError as exc:  # an integer of thousands of digits (Python refuses to convert it)
            raise BadReply(f"not JSON a miner sends ({len(raw)} bytes): {str(exc)[:80]}") from None
        if not isinstance(obj, dict):
            raise BadReply(f"a JSON {type(obj).__name__}, not an object: {text[:60]!r}")
        objects.append(obj)
        pos = end
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
    return objects


def check_status(reply: Mapping[str, Any], command: str) -> None:
    """Raise :class:`CommandFailed` when a cgminer-family or Whatsminer reply says the command failed.

    ``STATUS`` is a list of status objects (cgminer) or a string with ``Msg`` beside it
    (Whatsminer ``get_*`` commands); ``E`` and ``F`` are errors, ``S``, ``I`` and ``W`` are not.
    """
    status: Any = reply.get("STATUS")
    if isinstance(status, list) and status and isinstance(status[0], Mapping):
        code, msg = status[0].get("STATUS"), status[0].get("Msg")
    else:
        code, msg = status, reply.get("Msg")
    if code in ("E", "F"):
        raise CommandFailed(f"{command}: the miner refused it ({msg or 'no message'})")


def _number(value: Any) -> float | None:
    """The float a number or numeric string stands for (possibly inf or nan); None for anything else."""
    kind = type(value)
    if kind is float:
        return value
    if kind is int:  # compared exactly: an integer of 400 digits is beyond any figure, not an OverflowError
        return float(value) if -1e300 < value < 1e300 else (math.inf if value > 0 else -math.inf)
    if isinstance(value, str) and len(value) <= 64:
        try:
            return float(value.strip().replace(",", ""))
        except ValueError:
            return None
    return None


def num(value: Any) -> float | None:
    """A finite float from a number or a numeric string; None for anything else (inf and nan included)."""
    v = _number(value)
    return v if v is not None and math.isfinite(v) else None


def bounded(value: Any, low: float, high: float) -> float | None:
    """``num(value)`` when within ``low..high``; None otherwise (telemetry out of its physical range)."""
    v = num(value)
    return v if v is not None and low <= v <= high else None


def integer(value: Any, low: float = 0, high: float = MAX_COUNT) -> int | None:
    """``num`` rounded to an int, None when not a number in ``low..high`` (chips, fans, error counts)."""
    v = bounded(value, low, high)
    return None if v is None else round(v)


def _show(value: Any) -> str:
    if value is None:
        return "null (or a bare inf/nan)"
    return repr(value)[:40] if isinstance(value, (str, int, float)) else f"a {type(value).__name__}"


def count(record: Mapping[str, Any], key: str, limit: float) -> float | None:
    """A cumulative counter ``record[key]`` (hashes, difficulty, shares, errors, uptime): None when absent.

    Raises:
        BadReply: present but not a finite number in ``0..limit`` (1e308, inf, nan, negative, text, a list).
    """
    if key not in record:
        return None
    value = record[key]
    v = num(value)
    if v is None or not 0 <= v <= limit:
        raise BadReply(f"{key} is {_show(value)}: not a count in 0..{limit:g}")
    return v


def power(value: Any, field: str) -> float | None:
    """The firmware's power figure in W: None when not reported (absent, not a number, or 0: not measured).

    Raises:
        BadReply: a number that is no miner's power: negative, non-finite or over :data:`MAX_POWER_W`.
    """
    v = _number(value)
    if v is None or v == 0:
        return None
    if not 0 < v <= MAX_POWER_W:  # nan fails this too
        raise BadReply(f"{field} is {_show(value)}: not a miner's power (0..{MAX_POWER_W:g} W)")
    return v


def text(record: Mapping[str, Any], key: str, default: str | None = None, limit: int = 200) -> str | None:
    """A text field (a number is its text), at most ``limit`` characters; ``default`` when absent or null.

    Raises:
        BadReply: an object, a list or a boolean where text belongs.
    """
    value = record.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadReply(f"{key} is {_show(value)}, not text")
    return str(value)[:limit]


def mapping(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An object field; empty when absent or null.

    Raises:
        BadReply: present as anything but an object.
    """
    value = record.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadReply(f"{key} is {_show(value)}, not an object")
    return value


def items(record: Mapping[str, Any], key: str) -> list[Any]:
    """A list field; empty when absent or null.

    Raises:
        BadReply: present as anything but a list.
    """
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadReply(f"{key} is {_show(value)}, not a list")
    return value


F = TypeVar("F", bound=Callable[..., Any])


def edge(where: Callable[..., str]) -> Callable[[F], F]:
    """Decorates a normaliser (a reply -> typed values): anything a reply of unforeseen shape still raises
    becomes one :class:`BadReply` for that miner, named by ``where(*args)``; so does a :class:`BadReply`
    without the miner's name. The one guard at the parse edge: callers catch :class:`MinerError` only."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except BadReply as exc:
                name = where(*args)
                raise BadReply(str(exc) if str(exc).startswith(name) else f"{name}: {exc}") from None
            except (TypeError, ValueError, AttributeError, IndexError, KeyError, OverflowError,
                    RecursionError, ZeroDivisionError) as exc:
                raise BadReply(f"{where(*args)}: a reply of unexpected shape ({type(exc).__name__}: "
                               f"{str(exc)[:120]})") from None
        return guarded  # type: ignore[return-value]

    return wrap


def rates(fields: Mapping[str, Any]) -> dict[str, float]:
    """Every hash-rate field of a cgminer-style record in H/s, keyed by its window.

    ``{"GHS 5s": "95000.5", "MHS av": 9.5e7}`` -> ``{"5s": 9.50005e13, "av": 9.5e13}``.
    """
    out: dict[str, float] = {}
    for key, value in fields.items():
        if "HS" not in key and "hs" not in key:
            continue
        match = _RATE_KEY.match(key)
        v = num(value)
        if match and v is not None and 0 <= v * PREFIX[match.group(1).upper()] <= MAX_RATE_HS:
            out[match.group(2).strip().lower()] = v * PREFIX[match.group(1).upper()]
    return out


def unit_scale(unit: Any, default: str = "GH") -> float:
    """H/s per unit for an Antminer ``rate_unit`` such as ``"GH/s"`` or ``"TH"`` (``default`` when absent)."""
    name = (unit if isinstance(unit, str) and unit.strip() else default).strip().upper()
    return PREFIX.get(name.split("H")[0], PREFIX[default[0]])


def first(record: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key present (not None) in ``record``."""
    for key in keys:
        if record.get(key) is not None:
            return record[key]
    return None
