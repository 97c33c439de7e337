"""Bounded field types of the run record: no string where a number belongs, nothing beyond any machine.

Every number in a result file is finite (the model refuses NaN and infinities),
typed and bounded here; every string has a length bound and every series a
count bound, so a hostile file is refused by the schema before anything reads
it and nothing downstream can spend more than seconds on one file.

No count is negative: units, tokens, shares, readings, rates, energies and
durations have types that start at 0, and the free-form maps (a run's
``metrics`` and ``params``, a unit's ``hardware.details``) refuse a negative
number under a key that names a count, a rate or a latency
(:func:`counts_something`: ``total_output_tokens``, ``shares``, ``hw_errors``,
``decode_tok_s``, ``ttft_ms``...).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

#: Power of one run's machine. The largest single machine a site racks (a 72-GPU rack)
#: draws about 130 kW; a whole PDU read as a "wall" meter stays far below this.
MAX_MACHINE_W = 1e6
#: Power of a whole fleet (fleet totals): a thousand racks.
MAX_FLEET_W = 1e9
#: Seconds one record may span (about 11.6 days): windows, traces, durations.
MAX_SPAN_S = 1e6
#: Energy of one machine over the longest span.
MAX_ENERGY_J = MAX_MACHINE_W * MAX_SPAN_S
#: Units per second of one run (a fleet of ASIC miners at 1000 EH/s is 1e21 H/s).
MAX_RATE = 1e21
#: Units done in one window at the highest rate over the longest span.
MAX_UNITS = MAX_RATE * MAX_SPAN_S
#: Raw series: throughput windows, power trace points, runs, meters, reasons.
MAX_WINDOWS = 100_000
MAX_POINTS = 200_000
MAX_RUNS = 20_000
MAX_METERS = 1024
MAX_ITEMS = 1000

NAME_LEN = 200
HOST_LEN = 255
TEXT_LEN = 2000

Name = Annotated[str, Field(min_length=1, max_length=NAME_LEN)]
"""A short identifier: workload, device, unit, meter name, scope, key id."""
Host = Annotated[str, Field(min_length=1, max_length=HOST_LEN)]
"""A host name (DNS allows 253 characters)."""
Text = Annotated[str, Field(max_length=TEXT_LEN)]
"""A sentence: an error, a note, a reason."""
Texts = Annotated[list[Text], Field(max_length=MAX_ITEMS)]

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0, le=MAX_SPAN_S)]
PositiveSeconds = Annotated[float, Field(gt=0.0, le=MAX_SPAN_S)]
Time = Annotated[float, Field(ge=-MAX_SPAN_S, le=MAX_SPAN_S)]
"""Seconds from the start of the run (a reading may precede it a little)."""
Watts = Annotated[float, Field(ge=0.0, le=MAX_MACHINE_W)]
SignedWatts = Annotated[float, Field(ge=-MAX_MACHINE_W, le=MAX_MACHINE_W)]
FleetWatts = Annotated[float, Field(ge=0.0, le=MAX_FLEET_W)]
Joules = Annotated[float, Field(ge=0.0, le=MAX_ENERGY_J)]
Rate = Annotated[float, Field(ge=0.0, le=MAX_RATE)]
Units = Annotated[float, Field(ge=0.0, le=MAX_UNITS)]
PerJoule = Annotated[float, Field(ge=0.0, le=MAX_RATE)]
Count = Annotated[int, Field(ge=0, le=2**53)]
Bytes = Annotated[int, Field(ge=0, le=2**63)]
Ratio = Annotated[float, Field(ge=0.0, le=1e6)]
"""A dimensionless non-negative figure (coefficient of variation, ceiling fraction)."""
Gauge = Annotated[float, Field(ge=-1e12, le=1e12)]
"""A telemetry value (clock in MHz, temperature, fan rpm, error count)."""

Point = Annotated[list[Annotated[float, Field(ge=-MAX_SPAN_S, le=MAX_RATE)]], Field(min_length=2, max_length=2)]
"""``[t, value]``: seconds from the run's start and a reading."""
PowerPoint = Annotated[list[Annotated[float, Field(ge=-MAX_SPAN_S, le=MAX_MACHINE_W)]],
                       Field(min_length=2, max_length=2)]
"""``[t, watts]``."""
PowerTrace = Annotated[list[PowerPoint], Field(max_length=MAX_POINTS)]
Series = Annotated[list[Point], Field(max_length=MAX_POINTS)]

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
Timestamp = Annotated[str, Field(pattern=RFC3339, max_length=40)]
"""RFC 3339 date and time, e.g. ``2026-11-25T13:45:01Z``."""


def _finite_scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) <= 2**63:
        return value
    if isinstance(value, float) and -1e300 < value < 1e300:
        return value
    if isinstance(value, str) and len(value) <= TEXT_LEN:
        return value
    raise ValueError(f"expected a finite number, a string of at most {TEXT_LEN} characters, true/false or null")


Scalar = Annotated[Any, AfterValidator(_finite_scalar)]
"""A flat value: number, bounded string, boolean or null (workload metrics, parameters)."""

#: Words that, as the last word of a metric, parameter or detail key (split at ``_`` and ``.``), name
#: something counted: never negative.
COUNT_WORDS = frozenset({
    "tokens", "shares", "requests", "completed", "failed", "errors", "polls", "restarts", "steps", "batch",
    "prompts", "chips", "boards", "hashes", "units", "windows", "events", "miners", "ranks", "repeats",
    "planned", "expected", "count", "concurrency", "len", "lens", "readings", "throughput", "rate", "cv",
})
#: Key endings that name a rate, a latency or an energy per unit: never negative.
COUNT_SUFFIXES = ("_ms", "_tok_s", "_per_s", "_per_token", "_per_output_token", "_per_joule")
#: Key beginnings that hold counts per reason (``failures.timeout``).
COUNT_PREFIXES = ("failures.",)


def counts_something(key: str) -> bool:
    """True when a metric, parameter or detail named ``key`` holds a count, a rate or a latency."""
    k = key.lower()
    last = k.replace(".", "_").rsplit("_", 1)[-1]
    return last in COUNT_WORDS or k.endswith(COUNT_SUFFIXES) or k.startswith(COUNT_PREFIXES)


def _no_negative_counts(mapping: dict[str, Any]) -> dict[str, Any]:
    for key, value in mapping.items():
        if not counts_something(key):
            continue
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
                raise ValueError(f"{key[:80]!r} is a count, a rate or a latency: {v!r} is negative")
    return mapping


def _param(value: Any) -> Any:
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"at most {MAX_ITEMS} items")
        return [_finite_scalar(v) for v in value]
    return _finite_scalar(value)


ParamValue = Annotated[Any, AfterValidator(_param)]
"""A workload parameter: a flat value or a list of them."""

Params = Annotated[dict[Name, ParamValue], Field(max_length=MAX_ITEMS), AfterValidator(_no_negative_counts)]
Metrics = Annotated[dict[Name, Scalar], Field(max_length=MAX_ITEMS), AfterValidator(_no_negative_counts)]
"""A run's flat metrics (and a unit's details): no negative count (:func:`counts_something`)."""
