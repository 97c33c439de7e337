"""Parquet samples: written a row group at a time into place, read back as a stream, hashed, counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.record import samples
from bench.record.samples import SamplesWriter


def _rows(n: int) -> list[dict[str, object]]:
    return [{"miner": f"10.0.0.{i % 7}:4028", "kind": "poll", "tick": i // 7, "t": 100.0 + i, "wall": 1.7e9 + i,
             "hashes": 1e15 * i, "power_w": 3250.0, "board_chips": [114, 114, 113], "chips": 341} for i in range(n)]


def test_rows_go_out_in_row_groups_and_come_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    with SamplesWriter(path, row_group=100) as w:
        for row in _rows(1050):
            w.add(row)
        assert not path.exists(), "the file appears whole, when the writer closes"
    assert samples.rows(path) == 1050
    assert samples.open_file(path).metadata.num_row_groups == 11
    got = [b for b in samples.batches(path, ["miner", "t", "hashes", "board_chips", "energy_j"], batch_size=64)]
    assert max(b.num_rows for b in got) <= 64
    t = [x for b in got for x in b.column("t").to_pylist()]
    assert t == [100.0 + i for i in range(1050)]
    first = got[0].to_pylist()[8]
    assert first == {"miner": "10.0.0.1:4028", "t": 108.0, "hashes": 8e15, "board_chips": [114, 114, 113],
                     "energy_j": None}


def test_check_names_a_changed_file_and_a_wrong_count(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    with SamplesWriter(path) as w:
        for row in _rows(10):
            w.add(row)
    digest = samples.sha256(path)
    assert samples.check(path, digest, 10) is None
    assert "10 rows but the result names 11" in (samples.check(path, digest, 11) or "")
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    assert "SHA-256" in (samples.check(path, digest, 10) or "")
    assert "no such samples file" in (samples.check(tmp_path / "gone.parquet", digest, 10) or "")


def test_abort_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    with pytest.raises(RuntimeError), SamplesWriter(path) as w:
        w.add(_rows(1)[0])
        raise RuntimeError("stopped")
    assert list(tmp_path.iterdir()) == []


def test_another_parquet_file_is_not_a_samples_file(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": [1]}), tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="not a sitebench samples file"):
        samples.rows(tmp_path / "x.parquet")
    (tmp_path / "y.parquet").write_text("{}")
    with pytest.raises(ValueError, match="not a Parquet file"):
        samples.rows(tmp_path / "y.parquet")


def test_a_row_group_too_big_to_hold_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.parquet"
    with SamplesWriter(path) as w:
        for row in _rows(1000):
            w.add(row)
    monkeypatch.setattr(samples, "MAX_GROUP_BYTES", 1000)
    with pytest.raises(ValueError, match="row group 0 holds"):
        samples.rows(path)
    assert "row group 0 holds" in (samples.check(path, samples.sha256(path), 1000) or "")
