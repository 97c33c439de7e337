"""The journal of ``sitebench miners run``: every poll and outlet reading as it happens.

Beside the result file (``<out>.journal.jsonl``, :mod:`bench.measure.journal`): the ``header`` (document
and outlet meters), one ``miners`` line (the plan, the run's clock reference and every miner's
identity and outlet meter), then as they come: ``poll`` lines (one per poll of each miner, a
:class:`~bench.miners.protocol.model.Poll` or the failure), the sampler's ``reading`` / ``gap`` lines of
the outlet meters, and a ``run`` line, synced, as each miner's record is complete.
``sitebench recover`` rebuilds the miners without a ``run`` line from their polls
(:mod:`bench.miners.record.recovery`).

A sweep (``miners run --power-target``) writes one ``miners`` line per operating point, with its index
(``point``) and each miner's setting (``settings``: address -> :class:`~bench.record.Setting`), and its polls
carry the same ``point``; the knob guard's ``knob`` / ``knob_set`` / ``knob_restored`` lines
(:mod:`bench.power.knobs.guard`) go between them, so that ``recover`` also puts every knob back.

Every line is numbered and checksummed like any journal's (:func:`bench.measure.journal.frame`); reading one
back, a poll, an identity and the plan are typed and bounded here (:func:`sample_from`, :func:`identity_from`,
:func:`head_from`), so a damaged line is one refused line. No credential is ever written here: identities, the
plan and figures only.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from bench.measure.journal import Journal
from bench.miners.measure.outcome import Plan
from bench.miners.protocol.model import Identity, Poll, PollFailure, Sample
from bench.record import Document, MeterFigure, Run


def sample_json(sample: Sample) -> dict[str, Any]:
    """A sample as a journal object (a poll without its identity, which the ``miners`` line holds)."""
    if isinstance(sample, PollFailure):
        return {"t": sample.t, "wall": sample.wall, "failed": sample.reason}
    out = {f.name: getattr(sample, f.name) for f in dataclasses.fields(sample) if f.name != "identity"}
    out["counter"] = dataclasses.asdict(sample.counter) if sample.counter is not None else None
    out["boards"] = [dataclasses.asdict(b) for b in sample.boards]
    return out


#: The largest figure a journaled poll may hold (hashes, difficulty, rates, seconds): an EH/s miner
#: for thirty million years, and far inside a float's arithmetic. Counts are never negative.
MAX_FIGURE = 1e30
#: The longest text and the most items of one journaled field.
MAX_TEXT, MAX_ITEMS = 2000, 1000
#: Fields of a poll that count something: never negative.
_COUNTS = ("elapsed_s", "accepted_difficulty", "rejected_difficulty", "shares", "hw_errors", "power_w", "hashes",
           "resolution", "chips", "chips_expected", "hashrate_hs")
_POLL, _FAILURE, _IDENTITY, _PLAN = TypeAdapter(Poll), TypeAdapter(PollFailure), TypeAdapter(Identity), TypeAdapter(Plan)


def bounded(value: Any, where: str = "$") -> None:
    """Refuse a typed value holding a non-finite or out-of-bounds number, a negative count, or a text or
    collection beyond :data:`MAX_TEXT` / :data:`MAX_ITEMS`.

    Raises:
        ValueError: naming the field at fault.
    """
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or abs(value) > MAX_FIGURE:
            raise ValueError(f"{where}: {value!r} is out of bounds")
        if value < 0 and where.rsplit(".", 1)[-1] in _COUNTS:
            raise ValueError(f"{where}: a negative count ({value!r})")
    elif isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"{where}: a text of {len(value)} characters")
    elif isinstance(value, (list, tuple, dict)):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"{where}: {len(value)} items")
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            bounded(item, f"{where}[{str(key)[:40]}]")
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            bounded(getattr(value, f.name), f"{where}.{f.name}")


def sample_from(obj: Any, identity: Identity) -> Sample:
    """The sample a journal object holds, typed and bounded.

    Raises:
        KeyError, TypeError, ValueError: a malformed object (a pydantic ValidationError is a ValueError).
    """
    if not isinstance(obj, dict):
        raise TypeError(f"a sample is an object, not {type(obj).__name__}")
    if "failed" in obj:
        sample: Sample = _FAILURE.validate_python({"t": obj.get("t"), "wall": obj.get("wall"),
                                                   "address": identity.address, "reason": obj["failed"]})
    else:
        sample = _POLL.validate_python({**obj, "identity": identity})
    bounded(sample, "sample")
    return sample


def identity_from(obj: Any) -> Identity:
    """An identity from its journal object, typed and bounded.

    Raises:
        KeyError, TypeError, ValueError: a malformed object.
    """
    if not isinstance(obj, dict):
        raise TypeError(f"an identity is an object, not {type(obj).__name__}")
    identity = _IDENTITY.validate_python({k: v for k, v in obj.items() if k != "outlet"})
    bounded(identity, "identity")
    if not 0 < identity.port < 65536 or not identity.host:
        raise ValueError(f"identity: no such address {identity.address[:80]!r}")
    return identity


@dataclass(frozen=True)
class MinersHead:
    """The ``miners`` line: the plan, the run's clock reference, its params and start, every miner and its outlet;
    in a sweep, the point's index and each miner's setting (its JSON object, typed by the reader)."""

    plan: Plan
    t_ref: float
    params: dict[str, object]
    started: str | None
    miners: list[tuple[Identity, str | None]]
    point: int | None = None
    settings: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


def head_from(obj: dict[str, Any]) -> MinersHead:
    """The ``miners`` line, typed and bounded.

    Raises:
        KeyError, TypeError, ValueError: a malformed line.
    """
    plan = _PLAN.validate_python(obj["plan"])
    bounded(plan, "plan")
    if not (plan.period_s > 0 and plan.window_s > 0 and plan.span_s > 0 and plan.warmup_s >= 0
            and 1 <= plan.repeats <= 100_000 and plan.miners >= 1):
        raise ValueError("plan: a period, window or span that is not positive, or no window to measure")
    t_ref, params, started, miners = obj["t_ref"], obj.get("params") or {}, obj.get("started"), obj["miners"]
    if isinstance(t_ref, bool) or not isinstance(t_ref, (int, float)) or not isinstance(params, dict) \
            or not isinstance(miners, list) or (started is not None and not isinstance(started, str)):
        raise TypeError("t_ref, params, started or miners of the wrong type")
    bounded(t_ref, "t_ref")
    bounded(params, "params")
    bounded(started, "started")
    out = []
    for m in miners[:MAX_ITEMS + 1]:
        outlet = m.get("outlet") if isinstance(m, dict) else None
        if outlet is not None and not isinstance(outlet, str):
            raise TypeError("outlet: not a meter name")
        out.append((identity_from(m), outlet))
    bounded(out, "miners")
    point, settings = obj.get("point"), obj.get("settings") or {}
    if point is not None and (isinstance(point, bool) or not isinstance(point, int) or not 0 <= point <= MAX_ITEMS):
        raise ValueError(f"point: not a point's index ({str(point)[:40]})")
    if not isinstance(settings, dict) or not all(isinstance(k, str) and isinstance(v, dict) for k, v in settings.items()):
        raise TypeError("settings: not an object of settings by miner")
    bounded(settings, "settings")
    return MinersHead(plan, float(t_ref), dict(params), started, out, point, dict(settings))


class MinersJournal(Journal):
    """The run's journal; writes come from the event loop and the outlet sampler's thread, so one at a time."""

    def __init__(self, path: Any) -> None:
        super().__init__(path)
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any], flush: bool = False) -> None:
        with self._lock:
            super().write(record, flush)

    def sync(self) -> None:
        with self._lock:
            super().sync()

    def start(self, doc: Document, meters: list[MeterFigure], plan: Plan, t_ref: float,
              miners: list[tuple[Identity, str | None]], params: dict[str, object], started: str) -> None:
        """The header and the ``miners`` line, synced: what recovery needs before the first poll."""
        self.header(doc, meters)
        self.miners(plan, t_ref, miners, params, started)

    def miners(self, plan: Plan, t_ref: float, miners: list[tuple[Identity, str | None]], params: dict[str, object],
               started: str, point: int | None = None, settings: dict[str, dict[str, Any]] | None = None) -> None:
        """A ``miners`` line, synced: the whole run's, or (``point`` given) one operating point's of a sweep, with
        each miner's setting at it."""
        line: dict[str, Any] = {"type": "miners", "plan": dataclasses.asdict(plan), "t_ref": t_ref, "params": params,
                                "started": started, "miners": [{**dataclasses.asdict(i), "outlet": o} for i, o in miners]}
        if point is not None:
            line.update(point=point, settings=settings or {})
        self.write(line)
        self.sync()

    def knob(self, line: dict[str, Any]) -> None:
        """A knob guard's line (:mod:`bench.power.knobs.guard`), synced: an original is on disk before any change."""
        self.write(line)
        self.sync()

    def sample(self, address: str, tick: int, sample: Sample, point: int | None = None) -> None:
        """One poll of one miner (handed to the OS at once); ``point``: the sweep's point it was taken at."""
        line: dict[str, Any] = {"type": "poll", "miner": address, "tick": tick, "sample": sample_json(sample)}
        if point is not None:
            line["point"] = point
        self.write(line, flush=True)

    def record(self, run: Run) -> None:
        """A miner's complete record, synced with everything before it."""
        self.run(run)
