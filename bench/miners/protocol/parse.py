"""Forgiving decoding of what miner APIs really send, and the figures in it.

Real replies are messy: trailing NUL bytes, several JSON objects back to back
(``}{``) when commands are joined with ``+``, bare ``inf``/``nan`` tokens that
are not JSON, a stray comma before ``}``, numbers sent as strings, hash rates
in H/s, MH/s, GH/s or TH/s depending on the firmware, and ``STATUS: "E"`` for
a refused command. :func:`decode` repairs only what is unambiguous; a reply
that was cut short is an error, never a partial dict. :func:`num` turns a
field into a finite float or None: ``"inf"`` and ``"nan"`` become None, never 0.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

#: Scale of a hash rate unit prefix to H/s.
PREFIX = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}

# bare inf/nan/-nan/infinity after ':' '[' or ',' (outside strings: a quote would precede a string value)
_BARE_NONFINITE = re.compile(r"(?<=[:\[,])(\s*)-?(?:inf(?:inity)?|nan)\b", re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_LEADING_COMMA = re.compile(r"\[\s*,")
_RATE_KEY = re.compile(r"^([KMGTP]?)HS[ _](.+)$", re.IGNORECASE)


class MinerError(Exception):
    """A miner could not be asked, did not answer, or answered nonsense; the message says which."""


class BadReply(MinerError):
    """The reply is not (repairable) JSON: truncated, empty or another protocol."""


class CommandFailed(MinerError):
    """The miner refused a command (``STATUS: "E"``, a non-zero v3 ``code``)."""


def decode(raw: bytes) -> list[dict[str, Any]]:
    """The JSON objects in one reply, in order (usually one; several for ``}{``-joined replies).

    Raises:
        BadReply: empty, truncated or not JSON objects.
    """
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


def num(value: Any) -> float | None:
    """A finite float from a number or a numeric string; None for anything else (inf and nan included)."""
    kind = type(value)
    if kind is float or kind is int:
        return float(value) if math.isfinite(value) else None
    if value is None or kind is bool:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def integer(value: Any) -> int | None:
    """``num`` rounded to an int (None when not a number)."""
    v = num(value)
    return None if v is None else round(v)


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
        if match and v is not None:
            out[match.group(2).strip().lower()] = v * PREFIX[match.group(1).upper()]
    return out


def unit_scale(unit: Any, default: str = "GH") -> float:
    """H/s per unit for an Antminer ``rate_unit`` such as ``"GH/s"`` or ``"TH"`` (``default`` when absent)."""
    text = (unit if isinstance(unit, str) and unit.strip() else default).strip().upper()
    return PREFIX.get(text.split("H")[0], PREFIX[default[0]])


def first(record: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key present (not None) in ``record``."""
    for key in keys:
        if record.get(key) is not None:
            return record[key]
    return None
