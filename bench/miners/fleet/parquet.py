"""A shard's samples as Parquet rows (:mod:`bench.record.samples`): each poll as it comes, the outlets' readings.

:class:`SampleSink` is what a sharded ``miners run`` hands its poller: every sample of every miner
becomes one row at once (a row group goes to disk every :data:`ROW_GROUP` rows), so memory holds one
row group, not the run. The outlet meters' readings, which the power layer keeps
until each miner's record is made, follow as ``outlet`` rows when the run ends.
"""

from __future__ import annotations

import os
from typing import Any

from bench.miners.protocol.model import Poll, PollFailure, Sample
from bench.power.meter import Reading
from bench.record.samples import SamplesWriter


def poll_row(address: str, tick: int | None, sample: Sample) -> dict[str, Any]:
    """One sample of miner ``address`` as a row (a failed poll keeps its time and reason)."""
    if isinstance(sample, PollFailure):
        return {"miner": address, "kind": "failed", "tick": tick, "t": sample.t, "wall": sample.wall,
                "reason": sample.reason[:500]}
    p: Poll = sample
    boards = p.boards
    return {
        "miner": address, "kind": "poll", "tick": tick, "t": p.t, "wall": p.wall, "elapsed_s": p.elapsed_s,
        "hashes": p.counter.hashes if p.counter else None,
        "hashes_resolution": p.counter.resolution if p.counter else None,
        "accepted_difficulty": p.accepted_difficulty, "rejected_difficulty": p.rejected_difficulty,
        "shares": p.shares, "hw_errors": p.hw_errors, "share_difficulty": p.share_difficulty,
        "rate_hs": p.rates_hs.get("5s", p.rates_hs.get("realtime")), "nominal_hs": p.rates_hs.get("nominal"),
        "power_w": p.power_w, "stable": p.stable, "chips": p.chips, "chips_expected": p.chips_expected,
        "board_temp_c": [b.temp_board_c for b in boards] if boards else None,
        "board_chip_temp_c": [b.temp_chip_c for b in boards] if boards else None,
        "board_chips": [b.chips for b in boards] if boards else None,
        "fans_rpm": list(p.fans_rpm) or None,
    }


def outlet_row(address: str, reading: Reading) -> dict[str, Any]:
    """One reading of miner ``address``'s outlet meter as a row."""
    return {"miner": address, "kind": "outlet", "t": reading.t, "power_w": reading.power_w,
            "energy_j": reading.energy_j}


#: Rows per row group while polling: writing one holds the poller's event loop for about 7 us a row
#: (0.1 s at this size), so groups stay small enough never to make a poll late.
ROW_GROUP = 16_384


class SampleSink:
    """Writes a shard's samples to ``path`` as they come; :meth:`close` renames the finished file into place."""

    def __init__(self, path: str | os.PathLike[str], row_group: int = ROW_GROUP) -> None:
        self.writer = SamplesWriter(path, row_group=row_group)

    def sample(self, address: str, tick: int, sample: Sample) -> None:
        """The poller's ``on_sample``."""
        self.writer.add(poll_row(address, tick, sample))

    def outlet(self, address: str, readings: list[Reading]) -> None:
        """The readings of ``address``'s outlet meter."""
        for r in readings:
            self.writer.add(outlet_row(address, r))

    @property
    def rows(self) -> int:
        """Rows written so far."""
        return self.writer.rows

    def close(self) -> None:
        """Finish the file."""
        self.writer.close()

    def abort(self) -> None:
        """Discard the file."""
        self.writer.abort()
