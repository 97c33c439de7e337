"""Result files on disk: atomic writes, the user's umask, writable checks, strict parsing, the journal."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from bench.errors import InvalidResultFile, UsageError
from bench.measure.journal import Journal
from bench.record import Document, System, check_writable, load, new_document, parse_json, write_result


def _doc() -> Document:
    return new_document(System(hostname="h"))


def test_new_document_is_version_2_and_loads_back(tmp_path: Path) -> None:
    doc = _doc()
    path = write_result(tmp_path / "a" / "b" / "r.json", doc)
    assert json.loads(path.read_text())["schema"] == "sitebench.result/2"
    assert load(path) == doc


def test_write_is_atomic_and_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.json"
    write_result(target, _doc())
    before = target.read_text()

    def broken_fsync(fd: int) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk on fire"):
        write_result(target, _doc())
    assert target.read_text() == before, "a failed write never replaces the old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"], "no temporary left behind"


def test_result_file_gets_the_users_umask_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_result(tmp_path / "r.json", _doc())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_path_under_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="file is a file, not a directory"):
        check_writable(tmp_path / "file" / "r.json")


def test_check_writable_refuses_a_directory_and_proc(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        check_writable(tmp_path)
    with pytest.raises(UsageError, match="--out /proc/x.json"):
        check_writable("/proc/x.json")


@pytest.mark.parametrize(
    "text, where, message",
    [
        ("not json", "$", "not valid JSON"),
        ("[1, 2]", "$", "expected a JSON object"),
        ('{"a": NaN}', "$", "NaN is not valid JSON"),
        ('{"a": {"b": 1, "b": 2}}', "$.a", "appears twice"),
        ("[" * 100000 + "]" * 100000, "$", ""),
    ],
)
def test_parse_rejects_bad_json(text: str, where: str, message: str) -> None:
    with pytest.raises(InvalidResultFile) as info:
        parse_json(text, "f.json")
    assert info.value.json_path == where and message in str(info.value)


def test_load_names_the_json_path_of_a_type_error(tmp_path: Path) -> None:
    obj = _doc().to_json()
    obj["runs"] = [{"workload": "x"}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(InvalidResultFile) as info:
        load(path)
    assert info.value.json_path.startswith("$.runs[0]") and "required" in info.value.reason
    path.write_text(json.dumps({**obj, "schema": "sitebench.result/9"}))
    with pytest.raises(InvalidResultFile, match=r"\$\.schema"):
        load(path)


def test_journal_streams_is_never_appended_to_and_is_removed(tmp_path: Path) -> None:
    j = Journal(tmp_path / "r.json.journal.jsonl")
    j.write({"type": "marker", "t": 1.0, "bad": float("nan")}, flush=True)
    line = json.loads(j.path.read_text())  # with its sequence number and checksum (n, c) where the journal writes them
    assert {k: v for k, v in line.items() if k not in ("n", "c")} == {"type": "marker", "t": 1.0, "bad": None}
    with pytest.raises(UsageError, match="sitebench recover"):
        Journal(j.path)
    j.close(remove=True)
    assert not j.path.exists()
