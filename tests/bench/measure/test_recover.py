"""Recover: completed runs come back exactly or, when their record is damaged, rebuilt from their windows and
readings and reported by line number; the run in progress is found by its start line; nothing is lost silently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.errors import InvalidResultFile
from bench.measure.journal import Journal, unframe
from bench.measure.recover import Recovery, recover, report
from bench.power.sampler import Sampler
from bench.record import Settings, System, new_document
from bench.record import Timing as TimingRecord
from bench.run.runner import run_workload
from tests.bench.power.fakes import CounterMeter, Sleeper

TIMING = TimingRecord(idle_s=0.05, warmup_s=0.05, window_s=0.15, repeats=2, tail_s=0.05)


def _real_journal(path: Path, workloads: int = 3) -> list[bytes]:
    """A journal written as a session writes it: ``workloads`` runs of the same workload, all complete."""
    meter = CounterMeter(100.0, update_period_s=0.01)
    journal = Journal(path)
    sampler = Sampler([meter], rate_hz=100, journal=journal)
    journal.header(new_document(System(), settings=Settings(timing=TIMING)), [meter.figure()])
    sampler.start()
    for _ in range(workloads):
        journal.run(run_workload(Sleeper(), "cpu", {}, TIMING, sampler, log=journal).run)
    sampler.stop()
    journal.close()
    return path.read_bytes().splitlines(keepends=True)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    return _real_journal(tmp_path_factory.mktemp("journal") / "r.json.journal.jsonl")


def _objs(lines: list[bytes]) -> list[dict[str, Any]]:
    return [json.loads(unframe(x)[0]) for x in lines]


def _killed(lines: list[bytes]) -> list[bytes]:
    """The journal as a SIGKILL after the third run's first window (and two readings more) leaves it."""
    objs = _objs(lines)
    third = [i for i, o in enumerate(objs) if o["type"] == "run-start"][2]
    window = next(i for i in range(third, len(objs)) if objs[i]["type"] == "window")
    return lines[: window + 3]


def _index(lines: list[bytes], kind: str, k: int = 0) -> int:
    return [i for i, o in enumerate(_objs(lines)) if o["type"] == kind][k]


def _recover(tmp_path: Path, lines: list[bytes]) -> Recovery:
    path = tmp_path / "r.json.journal.jsonl"
    path.write_bytes(b"".join(lines))
    return recover(path)


def _flip(line: bytes, needle: bytes) -> bytes:
    at = line.index(needle) + len(needle)
    return line[:at] + bytes([line[at] ^ 0x01]) + line[at + 1:]


def test_a_killed_journal_comes_back_exactly_with_the_run_in_progress(made: list[bytes], tmp_path: Path) -> None:
    lines = _killed(made)
    rec = _recover(tmp_path, lines)
    held = [o["run"] for o in _objs(lines) if o["type"] == "run"]
    first, second, third = rec.document.runs
    assert [first.to_json(), second.to_json()] == held
    assert third.status == "interrupted" and third.throughput.units and third.verified
    assert third.metrics["recovered"].startswith("killed before it ended")
    assert rec.clean and not rec.damage and rec.checked and rec.outcomes == ["recorded", "recorded", "in progress"]
    assert "nothing lost" in report(rec, "j")[-1]


def test_the_run_in_progress_gets_only_its_own_windows_when_a_workload_repeats(made: list[bytes],
                                                                               tmp_path: Path) -> None:
    # the three runs share one tag: the first run's windows and markers are not the third's
    lines = _killed(made)
    objs = _objs(lines)
    start = [i for i, o in enumerate(objs) if o["type"] == "run-start"][2]
    mine = [o["units"] for o in objs[start:] if o["type"] == "window"]
    assert len({o["tag"] for o in objs if o["type"] == "run-start"}) == 1
    third = _recover(tmp_path, lines).document.runs[2]
    assert third.throughput.units == mine and len(third.windows) == len(mine)


def test_a_flipped_byte_in_a_completed_record_is_reported_and_the_run_rebuilt(made: list[bytes], tmp_path: Path) -> None:
    lines = list(made)
    i = _index(lines, "run", 1)
    held = _objs(lines)[i]["run"]
    lines[i] = _flip(lines[i], b'"units":[')
    rec = _recover(tmp_path, lines)
    (d,) = rec.damage
    assert d.no == i + 1 and d.reason.startswith("bad checksum") and d.nbytes == len(made[i]) and d.lost
    assert "rebuilt as the record of sleeper@cpu" in d.outcome
    run = rec.document.runs[1]
    assert run.status == "ok" and run.verified, "all its windows and its idle tail are in the journal"
    assert run.throughput.units == held["throughput"]["units"]
    assert run.power.energy_j == pytest.approx(held["power"]["energy_j"], rel=1e-9)
    assert f"damaged lines: {i + 1}" in run.metrics["recovered"]
    assert [r.to_json() for r in rec.document.runs[::2]] == [o["run"] for o in _objs(made) if o["type"] == "run"][::2]
    assert not rec.clean and rec.outcomes == ["recorded", "rebuilt", "recorded"]
    lines_out = report(rec, "j")
    assert lines_out[0].startswith(f"j: line {i + 1}: bad checksum") and "DAMAGED" in lines_out[-1]


def test_a_deleted_record_is_missing_from_the_sequence_and_the_run_rebuilt(made: list[bytes], tmp_path: Path) -> None:
    lines = list(made)
    i = _index(lines, "run", 0)
    del lines[i]
    rec = _recover(tmp_path, lines)
    assert [d.lines for d in rec.damage] == [1] and "missing" in rec.damage[0].reason
    assert rec.outcomes == ["rebuilt", "recorded", "recorded"] and rec.missing_lines == 1


def test_moved_and_repeated_lines_are_put_back_and_reported_but_lose_nothing(made: list[bytes], tmp_path: Path) -> None:
    lines = list(made)
    i = _index(lines, "window", 1)
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    lines.insert(5, lines[4])
    rec = _recover(tmp_path, lines)
    assert sorted(d.reason.split(" ")[0] for d in rec.damage) == ["out", "repeats"]
    assert not any(d.lost for d in rec.damage) and not rec.clean
    assert [r.to_json() for r in rec.document.runs] == [o["run"] for o in _objs(made) if o["type"] == "run"]


def test_a_run_with_its_start_and_record_damaged_is_reported_lost(made: list[bytes], tmp_path: Path) -> None:
    lines = list(made)
    for i in (_index(lines, "run-start", 0), _index(lines, "run", 0)):
        lines[i] = _flip(lines[i], b'"type":"')
    rec = _recover(tmp_path, lines)
    assert len(rec.document.runs) == 2 and rec.runs_lost == 1
    assert any("that run is lost" in d.reason for d in rec.damage)
    assert "1 lost" in report(rec, "j")[-1]


def test_a_damaged_header_loses_the_id_but_not_the_runs(made: list[bytes], tmp_path: Path) -> None:
    lines = _killed(made)
    lines[0] = _flip(lines[0], b'"id":"')
    rec = _recover(tmp_path, lines)
    held = [o["run"] for o in _objs(lines) if o["type"] == "run"]
    assert [r.to_json() for r in rec.document.runs[:2]] == held
    assert rec.document.id != _objs(made)[0]["document"]["id"]
    third = rec.document.runs[2]
    assert third.power.energy_j, "the meters come from the run records when the header is lost"
    assert any("no intact header" in d.reason for d in rec.damage)


def test_a_journal_from_before_checksums_recovers_unchecked(made: list[bytes], tmp_path: Path) -> None:
    old = []
    for obj in _objs(_killed(made)):
        obj.pop("n")
        old.append(json.dumps(obj).encode() + b"\n")
    rec = _recover(tmp_path, old)
    assert rec.clean and not rec.checked and len(rec.document.runs) == 3
    assert "unchecked" in report(rec, "j")[-1]
    old[_index(old, "run", 0)] = old[_index(old, "run", 0)].replace(b'"status": "ok"', b'"status": "bogus"')
    rec = _recover(tmp_path, old)
    assert rec.damage[0].kind == "run" and "status" in rec.damage[0].reason and rec.outcomes[0] == "rebuilt"


def test_a_last_line_cut_short_by_the_crash_is_reported_and_not_a_loss(made: list[bytes], tmp_path: Path) -> None:
    lines = _killed(made)
    rec = _recover(tmp_path, [*lines, lines[-1][:30]])
    (d,) = rec.damage
    assert d.cut and rec.clean and "cut short" in report(rec, "j")[-1]


def test_a_file_that_is_no_journal_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "j"
    for data in (b"", b"\x00\xff" * 1000, b"[1, 2]\n", b'{"schema": "sitebench.result/2"}\n'):
        path.write_bytes(data)
        with pytest.raises(InvalidResultFile, match="not a sitebench journal"):
            recover(path)


def test_recover_finds_the_run_in_progress_after_a_point_refused_before_running(tmp_path: Path) -> None:
    from bench.measure.runrecord import RunHead
    from tests.records import run

    j = Journal(tmp_path / "r.json.journal.jsonl")
    j.header(new_document(System()), [])
    j.run(RunHead("llm-decode", "cpu", "token").failed("failed", "refused before running: 9 GB needed"))
    j.run_start(RunHead("sha256d", "cpu", "hash"), "sha256d@cpu")
    j.close()
    rec = recover(j.path)
    assert [(r.workload, r.status) for r in rec.document.runs] == [("llm-decode", "failed"), ("sha256d", "interrupted")]
    assert rec.clean
    assert run().ok


def test_the_command_exits_0_only_when_nothing_was_lost(made: list[bytes], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from bench.cli import main

    journal = tmp_path / "r.json.journal.jsonl"
    journal.write_bytes(b"".join(_killed(made)))
    assert main(["recover", str(journal)]) == 0
    assert "3 run(s)" in capsys.readouterr().out
    lines = _killed(made)
    i = _index(lines, "run", 0)
    lines[i] = _flip(lines[i], b'"units":[')
    journal.write_bytes(b"".join(lines))
    assert main(["recover", str(journal), "--out", str(tmp_path / "x.json")]) == 1
    out = capsys.readouterr()
    assert "(rebuilt after damage)" in out.out and f"line {i + 1}: bad checksum" in out.err
    assert main(["recover", str(journal), "--out", str(tmp_path / "x.json")]) == 2, "never over an existing file"
    with pytest.raises(SystemExit) as usage:
        main(["recover", str(journal), "--out", str(tmp_path / "y.json"), "--max-line-bytes", "0"])
    assert usage.value.code == 2
    assert main(["recover", str(journal), "--out", str(tmp_path / "y.json"), "--max-bytes", "3000"]) == 1
    assert "--max-bytes" in capsys.readouterr().err
