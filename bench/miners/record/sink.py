"""What a sharded ``miners run`` hands the session: a sink for every sample, and the last word on the file.

The session (:mod:`bench.miners.record.session`) knows nothing of shards: it calls :meth:`ShardSink.start`
with its time reference and journals :meth:`ShardSink.journal_line` (what ``recover`` needs to make the
shard's result again after a kill: :mod:`bench.miners.fleet.recovery`), calls :meth:`ShardSink.sample` with
every sample as it comes (beside the journal) and :meth:`ShardSink.finish` with the document it would write,
which the sink returns as the shard's result (:mod:`bench.miners.fleet.summary`).
"""

from __future__ import annotations

from typing import Any, Protocol

from bench.miners.protocol.model import Sample
from bench.miners.record.runrecord import OutletLog
from bench.record import Document


class ShardSink(Protocol):
    """Receives a shard's samples as they come and makes its result file."""

    def start(self, t_ref: float) -> None:
        """The run's time reference (``time.monotonic()``; the runs' phase times count from it)."""

    def journal_line(self) -> dict[str, Any]:
        """The line to journal once started, before the ``miners`` line (a JSON object with its ``type``)."""
        ...

    def sample(self, address: str, tick: int, sample: Sample) -> None:
        """One sample of miner ``address`` (``host:port``), as polled."""

    def finish(self, doc: Document, outlets: dict[str, OutletLog]) -> Document:
        """The document to write instead of ``doc``; ``outlets``: each miner's outlet readings, by address."""
        ...

    def abort(self) -> None:
        """The run ended without a document: remove what is not in place."""
