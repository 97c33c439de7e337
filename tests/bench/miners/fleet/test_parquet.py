"""A shard's samples as Parquet rows: every figure of a poll, a failed poll's reason, an outlet's readings."""

from __future__ import annotations

from pathlib import Path

from bench.miners.fleet.parquet import SampleSink
from bench.miners.protocol.model import PollFailure
from bench.power.meter import Reading
from bench.record import samples
from bench.testing.shards import polls


def test_polls_failures_and_outlet_readings_come_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    good = polls("10.0.0.7", factor=1.0, polls_=3, period_s=5.0, t0=100.0, wall0=1.7e9, rate_ths=110.0, power_w=3250.0)
    sink = SampleSink(path, row_group=2)
    for k, p in enumerate(good):
        sink.sample("10.0.0.7:4028", k, p)
    sink.sample("10.0.0.7:4028", 3, PollFailure(116.0, 1.7e9 + 16, "10.0.0.7:4028", "no answer within 4.5 s"))
    sink.outlet("10.0.0.7:4028", [Reading(t=101.0, power_w=3301.5), Reading(t=102.0, energy_j=5.0e6)])
    assert not path.exists()
    sink.close()
    rows = [r for b in samples.batches(path) for r in b.to_pylist()]
    assert [r["kind"] for r in rows] == ["poll"] * 3 + ["failed", "outlet", "outlet"] and sink.rows == 6
    first = rows[0]
    p = good[0]
    assert first["t"] == p.t and first["wall"] == p.wall and first["hashes"] == p.counter.hashes  # type: ignore[union-attr]
    assert first["accepted_difficulty"] == p.accepted_difficulty and first["shares"] == p.shares
    assert first["power_w"] == 3250.0 and first["chips"] == 342 and first["chips_expected"] == 342
    assert first["board_temp_c"] == [60.0, 61.0, 62.0] and first["board_chip_temp_c"] == [75.0, 76.0, 77.0]
    assert first["fans_rpm"] == [5400] * 4 and first["stable"] is True and first["rate_hs"] == 110e12
    assert rows[3]["reason"] == "no answer within 4.5 s" and rows[3]["hashes"] is None
    assert (rows[4]["power_w"], rows[4]["energy_j"], rows[5]["energy_j"]) == (3301.5, None, 5.0e6)
