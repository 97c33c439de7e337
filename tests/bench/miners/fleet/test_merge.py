"""sitebench merge on synthetic shards: the fleet result validates and feeds size/plan/report/qualify/leaderboard;
every bad input is one line, exit 2 (1 for missing shards) and nothing half-written; memory does not grow with
the number of shards; the samples are read as a stream."""

from __future__ import annotations

import json
import shutil
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.miners.fleet.merge import merge
from bench.record import load, samples
from bench.record.samples import SamplesWriter
from bench.testing.shards import shard_files
from bench.validation import validate_file
from bench.validation.shard import read_rows
from tests.bench.miners.helpers import cli

MINERS, SHARDS = 400, 4


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Path]]:
    yield shard_files(tmp_path_factory.mktemp("shards"), miners=MINERS, shards=SHARDS, slow=3, run_id="r1")


def _left(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.startswith("."))


def test_the_merged_fleet_validates_and_holds_every_miner_once(shards: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    code, stdout, err = cli("merge", *map(str, shards), "--out", str(out))
    assert code == 0, err
    assert f"{MINERS} miner(s)" in stdout and "3 outlier(s)" in stdout
    found = validate_file(out).findings
    assert found == [], [f.line(str(out)) for f in found]
    doc = load(out)
    fleet = doc.miners_fleet
    assert fleet is not None and fleet.complete and fleet.run_id == "r1" and [m.k for m in fleet.members] == [0, 1, 2, 3]
    runs = [r for p in shards for r in load(p).runs]
    assert len({r.device for r in runs}) == len(runs) == MINERS == fleet.totals.miners == fleet.totals.usable
    assert fleet.totals.hashrate_hs == pytest.approx(sum(r.throughput.rate or 0 for r in runs), rel=1e-12)
    assert fleet.totals.power_w == pytest.approx(sum(r.power.avg_w or 0 for r in runs), rel=1e-12)
    hashes = sum(sum(r.throughput.units) for r in runs)
    joules = sum(r.power.energy_j or 0 for r in runs)
    assert fleet.totals.j_per_th == pytest.approx(joules / hashes * 1e12, rel=1e-9)
    (avg,) = doc.runs
    seconds = sum(sum(r.throughput.durations_s) for r in runs)
    assert avg.ok and avg.throughput.rate == pytest.approx(hashes / seconds, rel=1e-9)
    assert 1e12 / (avg.efficiency.per_joule or 1) == pytest.approx(fleet.totals.j_per_th, rel=1e-9)
    assert {o.miner for o in fleet.outliers} == {"asic:10.1.0.0", "asic:10.1.0.1", "asic:10.1.0.2"}
    model = fleet.models[0]
    exact = sorted((r.throughput.rate or 0) / 1e12 for r in runs)
    assert model.ths.median == pytest.approx(exact[len(exact) // 2], rel=2e-3) and model.ths.count == MINERS


def test_size_plan_report_qualify_and_leaderboard_take_the_fleet(shards: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    assert merge(shards, out).complete
    code, stdout, err = cli("size", str(out), "--mw", "100", "--json")
    assert code == 0, err
    (row,) = [r for r in json.loads(stdout) if r["sized"]]
    assert "fleet mean of 400 miners" in row["system"]
    assert row["throughput_per_machine"] == pytest.approx(load(out).runs[0].throughput.rate, rel=1e-9)
    spec = tmp_path / "spec.toml"
    spec.write_text("[miners]\nmin_ths = 80\n[outliers]\nfail = false\n")
    code, stdout, err = cli("qualify", str(out), "--spec", str(spec))
    assert code == 0 and "fleet: PASS" in stdout and "3 outlier(s)" in " ".join(stdout.split()), err
    code, _, err = cli("report", str(out), "--out", str(tmp_path / "r.html"))
    assert code == 0, err
    plan = tmp_path / "plan.toml"
    plan.write_text('[plan]\nname = "t"\n[[allocation]]\nname = "A"\nmw = 10\n[[allocation.use]]\nname = "mining"\n'
                    'share = 1.0\nresult = "fleet.json"\nmodel = "Antminer"\n')
    code, stdout, err = cli("plan", str(plan))
    assert code == 0 and "Antminer" in stdout, err
    store = tmp_path / "store" / "site" / "2026"
    store.mkdir(parents=True)
    shutil.copy(out, store / "fleet.json")
    code, stdout, err = cli("leaderboard", str(tmp_path / "store"), "--json")
    assert code == 0 and json.loads(stdout), err


def test_a_missing_shard_is_named_and_the_fleet_is_incomplete(shards: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    code, _, err = cli("merge", str(shards[0]), str(shards[1]), str(shards[3]), "--out", str(out))
    assert code == 1 and "incomplete: missing shard(s) 2/4" in err
    fleet = load(out).miners_fleet
    assert fleet is not None and not fleet.complete and fleet.missing == [2]
    code, stdout, _ = cli("validate", str(out))
    assert code == 1 and "incomplete: missing shard(s) 2/4" in stdout


def _bad(args: list[str], out: Path, match: str) -> None:
    code, stdout, err = cli("merge", *args, "--out", str(out))
    assert code == 2, (stdout, err)
    assert match in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists() and _left(out.parent) == [], "nothing half-written"


def test_shards_of_another_run_are_refused(shards: list[Path], tmp_path: Path) -> None:
    (other,) = shard_files(tmp_path / "other", miners=MINERS, shards=SHARDS, run_id="r2", only=[1])
    _bad([str(shards[0]), str(other)], tmp_path / "f.json", "is from another run")
    (wider,) = shard_files(tmp_path / "wider", miners=MINERS + 1, shards=SHARDS, run_id="r1", only=[1])
    _bad([str(shards[0]), str(wider)], tmp_path / "f.json", "different host lists")


def test_overlapping_hosts_are_refused(shards: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    doc = json.loads(shards[0].read_text())
    doc["shard"]["k"] = 1
    (copy / "shard-1.json").write_text(json.dumps(doc))
    shutil.copy(shards[0].with_suffix(".parquet"), copy / "shard-0.parquet")
    _bad([str(shards[0]), str(copy / "shard-1.json")], tmp_path / "f.json", "is in two shards")
    _bad([str(shards[0]), str(shards[0].parent / ".." / shards[0].parent.name / shards[0].name)], tmp_path / "f.json",
         "named twice")
    doc["shard"]["k"] = 0
    (copy / "again.json").write_text(json.dumps(doc))
    _bad([str(shards[0]), str(copy / "again.json")], tmp_path / "f.json", "shard 0/4 given twice")


def test_a_parquet_file_whose_hash_does_not_match_is_refused(shards: list[Path], tmp_path: Path) -> None:
    d = tmp_path / "tampered"
    d.mkdir()
    for p in (shards[2], shards[2].with_suffix(".parquet")):
        shutil.copy(p, d / p.name)
    parquet = d / shards[2].with_suffix(".parquet").name
    data = bytearray(parquet.read_bytes())
    data[len(data) // 2] ^= 0xFF
    parquet.write_bytes(bytes(data))
    _bad([str(shards[0]), str(d / shards[2].name)], tmp_path / "f.json", "SHA-256")
    parquet.unlink()
    _bad([str(d / shards[2].name)], tmp_path / "f.json", "no such samples file")


def test_other_bad_input(shards: list[Path], tmp_path: Path) -> None:
    _bad([str(tmp_path / "nope.json")], tmp_path / "f.json", "no such file")
    plain = tmp_path / "plain.json"
    doc = json.loads(shards[0].read_text())
    del doc["shard"]
    plain.write_text(json.dumps(doc))
    _bad([str(plain)], tmp_path / "f.json", "not a shard's result")
    exists = tmp_path / "exists.json"
    exists.write_text("{}")
    code, _, err = cli("merge", str(shards[0]), "--out", str(exists))
    assert code == 2 and "--force" in err and exists.read_text() == "{}"


def _peak(paths: list[Path], out: Path) -> int:
    tracemalloc.start()
    try:
        merge(paths, out)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_shards(tmp_path: Path) -> None:
    few = shard_files(tmp_path / "few", miners=2 * 150, shards=2, polls_=16)
    many = shard_files(tmp_path / "many", miners=8 * 150, shards=8, polls_=16)
    _peak(few, tmp_path / "warm.json")  # imports and caches out of the way
    small, large = _peak(few, tmp_path / "f2.json"), _peak(many, tmp_path / "f8.json")
    assert load(tmp_path / "f8.json").miners_fleet.totals.miners == 1200  # type: ignore[union-attr]
    assert large < 1.3 * small, f"peak {large / 1e6:.1f} MB for 8 shards against {small / 1e6:.1f} MB for 2"


def test_a_large_samples_file_is_read_as_a_stream(tmp_path: Path) -> None:
    import pyarrow as pa

    path = tmp_path / "big.parquet"
    n_miners, polls = 50_000, 5
    with SamplesWriter(path) as w:
        for tick in range(polls):
            for i in range(n_miners):
                w.add({"miner": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}:4028", "kind": "poll", "tick": tick,
                       "t": 10.0 * tick + i * 1e-5, "wall": 1.7e9 + 10.0 * tick, "hashes": 1.1e14 * (600 + 10 * tick),
                       "power_w": 3250.0, "chips": 342, "board_chips": [114, 114, 114],
                       "board_temp_c": [60.0, 61.0, 62.0], "board_chip_temp_c": [75.0, 76.0, 77.0]})
    assert samples.rows(path) == n_miners * polls
    pool = pa.default_memory_pool()
    tracemalloc.start()
    try:
        digest = samples.sha256(path)
        rows = sum(b.num_rows for b in samples.batches(path, ["miner", "t", "hashes"]))
        wanted = {f"10.0.0.{i}:4028" for i in range(100)}
        got = read_rows(path, wanted)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == n_miners * polls and len(digest) == 64
    assert all(len(got[a].polls) == polls for a in wanted)
    assert peak < 16e6, f"{peak / 1e6:.1f} MB of Python objects for {rows} rows"
    assert pool.max_memory() < 128e6, f"Arrow held {pool.max_memory() / 1e6:.1f} MB at most"


def test_qualify_counts_the_miners_of_a_merged_fleet_that_break_each_rule(shards: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    merge(shards, out)
    runs = [r for p in shards for r in load(p).runs]
    below = sum((r.throughput.rate or 0) / 1e12 < 100.0 for r in runs)
    assert below == 3, "the three slow miners"
    spec = tmp_path / "spec.toml"
    spec.write_text("[miners]\nmin_ths = 100\n[outliers]\nfail = false\n")
    code, stdout, _ = cli("qualify", str(out), "--spec", str(spec))
    assert code == 1 and f"{below} of {MINERS} Bitmain Antminer S19 Pro miner(s) below 100 TH/s" in stdout.replace("\n", "")


def test_a_signed_shard_must_verify_against_the_trusted_keys(shards: list[Path], tmp_path: Path) -> None:
    from bench.record import write_result
    from bench.validation.signing import generate_keypair, sign_document

    keys = tmp_path / "keys"
    keys.mkdir()
    generate_keypair(tmp_path / "k.pem", keys / "k.pub", org="Site ops")
    d = tmp_path / "signed"
    d.mkdir()
    for p in shards:
        shutil.copy(p.with_suffix(".parquet"), d / p.with_suffix(".parquet").name)
        write_result(d / p.name, sign_document(load(p), tmp_path / "k.pem"))
    signed = [d / p.name for p in shards]
    code, _, err = cli("merge", *map(str, signed), "--out", str(tmp_path / "ok.json"), "--keys", str(keys))
    assert code == 0, err
    _bad([*map(str, signed), "--keys", str(tmp_path / "nokeys")], tmp_path / "f.json", "is not a trusted key")


def _variant(shard: Path, to: Path, edit: dict[str, object], name: str | None = None) -> Path:
    """A copy of ``shard`` (and its samples) whose shard block has ``edit`` applied."""
    to.mkdir(parents=True, exist_ok=True)
    doc = json.loads(shard.read_text())
    doc["shard"].update(edit)
    path = to / (name or shard.name)
    path.write_text(json.dumps(doc))
    shutil.copy(shard.with_suffix(".parquet"), path.with_suffix(".parquet"))
    return path


@pytest.mark.parametrize("edit, match", [
    ({"n": 5}, "is from another shard count"),
    ({"window_s": 60.0}, "is from another window length"),
    ({"period_s": 10.0}, "is from another poll period"),
])
def test_a_shard_of_another_shape_is_refused(shards: list[Path], tmp_path: Path, edit: dict[str, object],
                                             match: str) -> None:
    other = _variant(shards[1], tmp_path / "v", edit)
    _bad([str(shards[0]), str(other)], tmp_path / "f.json", match)


def test_a_shard_numbered_outside_its_count_is_refused_and_does_not_validate(shards: list[Path], tmp_path: Path) -> None:
    outside = _variant(shards[1], tmp_path / "v", {"k": 4})
    code, stdout, _ = cli("validate", str(outside))
    assert code == 1 and "$.shard.k: shard 4 of 4: K must be 0..3" in stdout, stdout
    _bad([str(shards[0]), str(outside)], tmp_path / "f.json", "K must be 0..3")


def test_a_merged_fleet_a_damaged_file_an_empty_directory_and_bad_options_are_refused(shards: list[Path],
                                                                                     tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.json"
    merge(shards, fleet)
    _bad([str(fleet)], tmp_path / "f.json", "is a merged fleet, not a shard")
    broken = tmp_path / "broken" / shards[0].name
    broken.parent.mkdir()
    broken.write_text(shards[0].read_text()[:1000])
    _bad([str(broken)], tmp_path / "f.json", "shard does not validate")
    (tmp_path / "empty").mkdir()
    _bad([str(tmp_path / "empty")], tmp_path / "f.json", "no *.json shard result in this directory")
    copy = _variant(shards[0], tmp_path / "same", {})
    before = copy.read_bytes()
    code, _, err = cli("merge", str(copy), "--out", str(copy), "--force")
    assert code == 2 and "is one of the shards" in err and len(err.strip().splitlines()) == 1, err
    assert copy.read_bytes() == before and _left(copy.parent) == []
    _bad([str(shards[0]), "--k-mad", "0"], tmp_path / "f.json", "--k-mad must be in (0, 100]")
