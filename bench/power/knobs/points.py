"""The one grammar of a sweep's points, shared by ``run --power-limit/--sm-clocks`` and ``miners run --power-target``.

``300,400,500,max`` is four points in the order given; ``LOW:HIGH:STEP`` is every step from LOW to HIGH
inclusive (the last step never passes HIGH); ``stock``, ``default``, ``max`` and ``min`` are words each knob
resolves (:meth:`bench.power.knobs.knob.Knob.resolve`); any other word that is not a number is a mode (a LuxOS
profile such as ``395MHz``, an Antminer ``low-power``), which the knob resolves or refuses.
"""

from __future__ import annotations

import math

from bench.errors import UsageError
from bench.power.knobs.knob import STOCK_WORDS

#: The most points one sweep may have (each is a full run per workload or per miner).
MAX_POINTS = 100


def _number(text: str, option: str, item: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{option} {item}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{option} {item}: {text!r} is not a finite number")
    return value


def _as_number(item: str) -> float | None:
    """``item`` as a number, or None when it is a mode's name."""
    try:
        return float(item)
    except ValueError:
        return None


def parse_points(option: str, text: str) -> list[str]:
    """The points of ``text`` as words, in the order given.

    Raises:
        UsageError: an empty item, a range that is not three finite numbers with a positive step and
            0 < LOW <= HIGH, a number that is not finite or not positive, the same point twice, more than
            :data:`MAX_POINTS`.
    """
    words: list[str] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise UsageError(f"{option} {text!r}: an empty point")
        if ":" in item:
            parts = item.split(":")
            if len(parts) != 3:
                raise UsageError(f"{option} {item}: a range is LOW:HIGH:STEP")
            low, high, step = (_number(p.strip(), option, item) for p in parts)
            if step <= 0 or low > high or low <= 0:
                raise UsageError(f"{option} {item}: a range needs 0 < LOW <= HIGH and a positive STEP")
            count = math.floor((high - low) / step + 1e-9) + 1
            if count + len(words) > MAX_POINTS:
                raise UsageError(f"{option} {text!r}: more than {MAX_POINTS} points")
            words += [format(round(low + i * step, 9), ".12g") for i in range(count)]
            continue
        if item.lower() in STOCK_WORDS:
            item = item.lower()
        else:
            number = _as_number(item)
            if number is not None and not math.isfinite(number):
                raise UsageError(f"{option} {item}: not a finite number")
            if number is not None and number <= 0:
                raise UsageError(f"{option} {item}: must be a positive number")
        words.append(item)
    if len(words) > MAX_POINTS:
        raise UsageError(f"{option} {text!r}: more than {MAX_POINTS} points")
    seen: set[str] = set()
    for word in words:
        if word in seen:
            raise UsageError(f"{option} {text!r}: {word} is given twice")
        seen.add(word)
    return words
