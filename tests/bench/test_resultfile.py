"""Result files: atomic writes, strict parsing, the shipped schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import resultfile
from bench.errors import InvalidResultFile, UsageError


def _doc() -> dict:
    return resultfile.new_document({"hostname": "h"}, runs=[])


def test_new_document_matches_the_shipped_schema() -> None:
    doc = _doc()
    assert doc["schema"] == "sitebench.result/1"
    assert resultfile.schema_errors(doc) == []
    assert resultfile.schema()["$id"] == "sitebench.result/1"


def test_write_is_atomic_and_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.json"
    resultfile.write_result(target, _doc())
    before = target.read_text()

    def broken_fsync(fd: int) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk on fire"):
        resultfile.write_result(target, {**_doc(), "id": "second"})
    assert target.read_text() == before, "a failed write never replaces the old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"], "no temporary left behind"


def test_write_creates_directories_and_round_trips(tmp_path: Path) -> None:
    doc = _doc()
    doc["runs"] = []
    doc["system"]["nan"] = float("nan")
    path = resultfile.write_result(tmp_path / "a" / "b" / "r.json", doc)
    loaded = resultfile.load(path)
    assert loaded["id"] == doc["id"] and loaded["system"]["nan"] is None


def test_path_under_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="not writable"):
        resultfile.check_writable(tmp_path / "file" / "r.json")


def test_check_writable_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        resultfile.check_writable(tmp_path)


@pytest.mark.parametrize(
    "text, where, message",
    [
        ("not json", "$", "not valid JSON"),
        ("[1, 2]", "$", "expected a JSON object"),
        ('{"a": NaN}', "$", "NaN is not valid JSON"),
        ("[" * 100000 + "]" * 100000, "$", ""),
    ],
)
def test_parse_rejects_bad_json(text: str, where: str, message: str) -> None:
    with pytest.raises(InvalidResultFile) as info:
        resultfile.parse("f.json", text)
    assert info.value.json_path == where and message in str(info.value)


def test_load_names_the_json_path_of_a_schema_error(tmp_path: Path) -> None:
    doc = _doc()
    doc["runs"] = [{"workload": "x"}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidResultFile) as info:
        resultfile.load(path)
    assert info.value.json_path == "$.runs[0]" and "required property" in info.value.reason

    doc = {**_doc(), "schema": "sitebench.result/9"}
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidResultFile, match=r"\$\.schema"):
        resultfile.load(path)


def test_journal_streams_and_is_removed(tmp_path: Path) -> None:
    j = resultfile.Journal(tmp_path / "r.json.journal.jsonl")
    j.write({"type": "marker", "t": 1.0}, flush=True)
    assert json.loads(j.path.read_text()) == {"type": "marker", "t": 1.0}
    j.close(remove=True)
    assert not j.path.exists()
