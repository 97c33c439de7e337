"""The journal of ``sitebench miners run``: every poll and outlet reading as it happens.

Beside the result file (``<out>.journal.jsonl``, :mod:`bench.measure.journal`): the ``header`` (document
and outlet meters), one ``miners`` line (the plan, the run's clock reference and every miner's
identity and outlet meter), then as they come: ``poll`` lines (one per poll of each miner, a
:class:`~bench.miners.protocol.model.Poll` or the failure), the sampler's ``reading`` / ``gap`` lines of
the outlet meters, and a ``run`` line, synced, as each miner's record is complete.
``sitebench recover`` rebuilds the miners without a ``run`` line from their polls
(:mod:`bench.miners.record.recovery`). No credential is ever written here: identities, the plan and
figures only.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from bench.measure.journal import Journal
from bench.miners.measure.outcome import Plan
from bench.miners.protocol.model import Board, Counter, Identity, Poll, PollFailure, Sample
from bench.record import Document, MeterFigure, Run


def sample_json(sample: Sample) -> dict[str, Any]:
    """A sample as a journal object (a poll without its identity, which the ``miners`` line holds)."""
    if isinstance(sample, PollFailure):
        return {"t": sample.t, "wall": sample.wall, "failed": sample.reason}
    out = {f.name: getattr(sample, f.name) for f in dataclasses.fields(sample) if f.name != "identity"}
    out["counter"] = dataclasses.asdict(sample.counter) if sample.counter is not None else None
    out["boards"] = [dataclasses.asdict(b) for b in sample.boards]
    return out


def sample_from(obj: dict[str, Any], identity: Identity) -> Sample:
    """The sample a journal object holds.

    Raises:
        KeyError, TypeError, ValueError: a malformed object.
    """
    if "failed" in obj:
        return PollFailure(float(obj["t"]), float(obj["wall"]), identity.address, str(obj["failed"]))
    fields = {k: v for k, v in obj.items() if k not in ("counter", "boards", "fans_rpm", "errors")}
    counter = obj.get("counter")
    return Poll(identity=identity, counter=Counter(**counter) if counter else None,
                boards=tuple(Board(**b) for b in obj.get("boards") or []),
                fans_rpm=tuple(int(x) for x in obj.get("fans_rpm") or []),
                errors=tuple(str(x) for x in obj.get("errors") or []), **fields)


def identity_from(obj: dict[str, Any]) -> Identity:
    """An identity from its journal object."""
    return Identity(str(obj["host"]), int(obj["port"]), str(obj["protocol"]), str(obj["family"]), str(obj["make"]),
                    str(obj["model"]), str(obj["firmware"]), None if obj.get("serial") is None else str(obj["serial"]))


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
        self.write({"type": "miners", "plan": dataclasses.asdict(plan), "t_ref": t_ref, "params": params,
                    "started": started, "miners": [{**dataclasses.asdict(i), "outlet": o} for i, o in miners]})
        self.sync()

    def sample(self, address: str, tick: int, sample: Sample) -> None:
        """One poll of one miner (handed to the OS at once)."""
        self.write({"type": "poll", "miner": address, "tick": tick, "sample": sample_json(sample)}, flush=True)

    def record(self, run: Run) -> None:
        """A miner's complete record, synced with everything before it."""
        self.run(run)
