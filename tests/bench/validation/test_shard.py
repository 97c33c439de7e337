"""validate on a shard's result: its Parquet samples must be the ones it names, and every miner's figures are
recomputed from its polls; a signature over the result covers the samples through their SHA-256."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.record import load, read_text, samples, write_result
from bench.record.samples import SamplesWriter
from bench.testing.shards import shard_files
from bench.validation import validate_file
from bench.validation.signing import generate_keypair, sign_document, trusted_keys, verify_document


@pytest.fixture(scope="module")
def shard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    (path,) = shard_files(tmp_path_factory.mktemp("shard"), miners=40, shards=2, only=[0])
    return path


def _copy(shard: Path, to: Path) -> Path:
    to.mkdir(parents=True, exist_ok=True)
    for p in (shard, shard.with_suffix(".parquet")):
        shutil.copy(p, to / p.name)
    return to / shard.name


def _checks(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in validate_file(path).findings:
        out.setdefault(f.check, []).append(f"{f.path}: {f.message}")
    return out


def test_a_shard_validates_with_its_samples(shard: Path) -> None:
    assert validate_file(shard).findings == []


def test_a_figure_the_samples_do_not_give_is_found(shard: Path, tmp_path: Path) -> None:
    path = _copy(shard, tmp_path)
    doc = json.loads(path.read_text())
    doc["runs"][3]["throughput"]["units"][0] *= 1.01
    doc["runs"][5]["power"]["meters"][0]["energy_j"] *= 1.01
    path.write_text(json.dumps(doc))
    found = _checks(path)
    assert any(p.startswith("$.runs[3].throughput.units[0]: ") and "counter in the samples" in p
               for p in found["parquet"]), found
    assert any(p.startswith("$.runs[5].power.meters[0].energy_j") for p in found["parquet"]), found


def test_samples_rewritten_to_other_figures_are_found_even_with_a_matching_hash(shard: Path, tmp_path: Path) -> None:
    path = _copy(shard, tmp_path)
    parquet = path.with_suffix(".parquet")
    rows = [r for b in samples.batches(parquet) for r in b.to_pylist()]
    with SamplesWriter(parquet) as w:
        for r in rows:
            w.add({**r, "power_w": r["power_w"] * 0.9 if r["power_w"] else r["power_w"]})
    doc = json.loads(path.read_text())
    doc["shard"]["samples"]["sha256"] = samples.sha256(parquet)
    doc["shard"]["samples"]["bytes"] = parquet.stat().st_size
    path.write_text(json.dumps(doc))
    found = _checks(path)
    assert "parquet" in found and "energy-trace" in found, found


def test_a_changed_or_missing_samples_file_is_found(shard: Path, tmp_path: Path) -> None:
    path = _copy(shard, tmp_path)
    parquet = path.with_suffix(".parquet")
    data = bytearray(parquet.read_bytes())
    data[-100] ^= 1
    parquet.write_bytes(bytes(data))
    assert "SHA-256" in _checks(path)["parquet"][0]
    parquet.unlink()
    assert "no such samples file" in _checks(path)["parquet"][0]


def test_a_signature_over_the_result_covers_the_samples(shard: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    generate_keypair(tmp_path / "k.pem", keys / "k.pub", org="Vendor")
    path = _copy(shard, tmp_path / "signed")
    write_result(path, sign_document(load(path), tmp_path / "k.pem"))
    trusted = trusted_keys(keys)
    verify_document(read_text(path), trusted)
    assert validate_file(path).findings == []
    parquet = path.with_suffix(".parquet")
    rows = [r for b in samples.batches(parquet) for r in b.to_pylist()]
    with SamplesWriter(parquet) as w:
        for r in rows[:-1]:
            w.add(r)
    assert "SHA-256" in _checks(path)["parquet"][0], "the samples changed under a signed result"
    doc = json.loads(path.read_text())
    doc["shard"]["samples"].update(sha256=samples.sha256(parquet), rows=len(rows) - 1)
    path.write_text(json.dumps(doc))
    with pytest.raises(Exception, match="does not match"):
        verify_document(read_text(path), trusted)


def test_without_pyarrow_one_line_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(UsageError, match=r"pip install 'sitebench\[fleet\]'"):
        samples.arrow()
