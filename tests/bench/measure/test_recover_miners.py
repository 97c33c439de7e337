"""The miners journal: the same checksums, its own lines typed and bounded, a damaged line one reported line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import bench.miners.record.recovery  # noqa: F401  (registers the miners journal, as the command does)
from bench.measure.journal import frame, unframe
from bench.measure.recover import recover
from bench.miners.measure.journal import MinersJournal, head_from, identity_from, sample_from
from bench.miners.measure.outcome import Plan
from bench.miners.protocol.model import Counter, Identity, Poll
from bench.record import System, new_document

MINER = Identity("127.0.0.9", 4028, "cgminer", "antminer", "Bitmain", "Antminer S19 Pro", "bmminer 1.0")
RATE = 110e12
PLAN = Plan(period_s=0.5, warmup_s=3.0, window_s=2.0, repeats=2, span_s=1.0)


def _poll(t: float) -> Poll:
    return Poll(t=t, wall=1.7e9 + t, identity=MINER, elapsed_s=1000.0 + t,
                counter=Counter(hashes=RATE * (1000.0 + t), resolution=1e9, source="Total MH"),
                accepted_difficulty=RATE * (1000.0 + t) / 2**32, shares=int(t * 100), hw_errors=0, power_w=3250.0)


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    j = MinersJournal(tmp_path / "m.json.journal.jsonl")
    j.start(new_document(System()), [], PLAN, 0.0, [(MINER, None)], {"poll_period_s": PLAN.period_s}, None)
    for tick in range(40):
        j.sample(MINER.address, tick, _poll(tick * PLAN.period_s))
    j.close()
    return j.path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_every_miners_line_is_checksummed_and_a_killed_run_recovers(journal: Path) -> None:
    assert all(unframe(x)[1] is True for x in _lines(journal))
    rec = recover(journal)
    (run,) = rec.document.runs
    assert rec.clean and run.throughput.units and run.throughput.rate == pytest.approx(RATE, rel=1e-3)
    assert rec.outcomes == ["in progress"]


@pytest.mark.parametrize("change, why", [
    ({"counter": {"hashes": -1e15, "resolution": 1e9, "source": "x"}}, "negative count"),
    ({"t": "soon"}, "t"),
    ({"counter": {"hashes": 1e300, "resolution": 1e9, "source": "x"}}, "out of bounds"),
    ({"boards": "all"}, "boards"),
])
def test_a_poll_that_fails_its_types_is_one_refused_line(journal: Path, change: dict[str, object], why: str) -> None:
    lines = _lines(journal)
    obj = json.loads(unframe(lines[20])[0])
    n = obj.pop("n")
    obj["sample"] = {**obj["sample"], **change}
    lines[20] = frame(obj, n).encode()  # written wrong, sealed right: only the types can tell
    journal.write_bytes(b"".join(lines))
    rec = recover(journal)
    (d,) = rec.damage
    assert d.no == 21 and d.kind == "poll" and why in d.reason and not rec.clean
    assert rec.document.runs[0].throughput.units, "the other polls go on"


def test_a_flipped_byte_in_a_poll_is_known(journal: Path) -> None:
    lines = _lines(journal)
    at = lines[12].index(b'"hashes":') + 10
    lines[12] = lines[12][:at] + bytes([lines[12][at] ^ 0x01]) + lines[12][at + 1:]
    journal.write_bytes(b"".join(lines))
    rec = recover(journal)
    assert [(d.no, d.kind) for d in rec.damage] == [(13, "poll")] and rec.damage[0].reason.startswith("bad checksum")


def test_a_damaged_miners_line_loses_the_miners_without_a_record_and_says_so(journal: Path) -> None:
    lines = _lines(journal)
    lines[1] = lines[1].replace(b'"repeats":2', b'"repeats":3')
    journal.write_bytes(b"".join(lines))
    rec = recover(journal)
    assert rec.document.runs == [] and not rec.clean
    assert any("no intact miners line" in d.reason for d in rec.damage)


def test_identities_plans_and_samples_are_typed_and_bounded() -> None:
    good = {"host": "10.0.0.5", "port": 4028, "protocol": "cgminer", "family": "antminer", "make": "Bitmain",
            "model": "S19", "firmware": "x"}
    assert identity_from(good).address == "10.0.0.5:4028"
    for bad in ({**good, "port": 0}, {**good, "port": "4028x"}, {**good, "host": ["a"]}, "a miner"):
        with pytest.raises((TypeError, ValueError)):
            identity_from(bad)
    head = {"plan": {"period_s": 0.5, "warmup_s": 3, "window_s": 2, "repeats": 2, "span_s": 1}, "t_ref": 0.0,
            "miners": [{**good, "outlet": None}]}
    assert head_from(head).plan.repeats == 2
    for plan in ({"period_s": 0}, {"repeats": 0}, {"window_s": math.inf}):
        with pytest.raises(ValueError):
            head_from({**head, "plan": {**head["plan"], **plan}})
    with pytest.raises((TypeError, ValueError)):
        sample_from({"t": 1.0, "wall": 2.0, "elapsed_s": None, "counter": None, "fans_rpm": [1e40]}, MINER)
    assert sample_from({"t": 1.0, "wall": 2.0, "failed": "timed out"}, MINER).reason == "timed out"
