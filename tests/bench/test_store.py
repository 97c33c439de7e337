"""Submission store: duplicates, concurrency, symlinks, fuzzed input leaving no stray file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.errors import CheckFailed, SitebenchError
from bench.store import safe_name, submissions, submit


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".lock")


def test_submit_then_duplicates_refused(doc: dict[str, Any], tmp_path: Path) -> None:
    src = tmp_path / "r.json"
    src.write_text(json.dumps(doc))
    store = tmp_path / "store"
    target = submit(src, "acme", store)
    assert target.parent.parent.name == "acme" and target.name == f"{doc['id']}.json"
    assert json.loads(target.read_text()) == doc
    with pytest.raises(CheckFailed, match="already in the store"):
        submit(src, "other", store)
    doc["id"] = "f" * 32
    src.write_text(json.dumps(doc))
    with pytest.raises(CheckFailed, match="same content"):
        submit(src, "acme", store)
    assert len(_files(store)) == 1 and [o for o, _, _ in submissions(store)] == ["acme"]


def test_unsafe_names_and_symlinks(doc: dict[str, Any], tmp_path: Path) -> None:
    assert safe_name("../../etc/passwd") == "etc-passwd"
    assert safe_name("..") == "unknown"
    src = tmp_path / "r.json"
    doc["id"] = "../../escape"
    src.write_text(json.dumps(doc))
    store = tmp_path / "store"
    with pytest.raises(SitebenchError):
        submit(src, "acme", store)
    outside = tmp_path / "outside"
    outside.mkdir()
    store.mkdir(exist_ok=True)
    os.symlink(outside, store / "evil")
    doc["id"] = "a" * 32
    src.write_text(json.dumps(doc))
    with pytest.raises(CheckFailed, match="symlink"):
        submit(src, "evil", store)
    assert list(outside.iterdir()) == []


#: One submit in a process of its own: prints ok, or refused when the store already holds the file.
_SUBMIT = """
import sys
from bench.errors import CheckFailed
from bench.store import submit
try:
    submit(sys.argv[1], "acme", sys.argv[2])
    print("ok")
except CheckFailed:
    print("refused")
"""


def test_concurrent_submits_leave_one_copy(doc: dict[str, Any], tmp_path: Path) -> None:
    """Eight processes submit the same file at once (fresh interpreters, not forks of this one: a fork inherits
    whatever threads earlier tests left, and a pool of forks can deadlock on them)."""
    src = tmp_path / "r.json"
    src.write_text(json.dumps(doc))
    store = tmp_path / "store"
    procs = [subprocess.Popen([sys.executable, "-c", _SUBMIT, str(src), str(store)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert sorted(results) == ["ok"] + ["refused"] * 7
    assert len(_files(store)) == 1


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patch=st.dictionaries(st.sampled_from(["id", "schema", "runs", "system", "source", "created"]),
                             st.none() | st.integers() | st.text(max_size=20) | st.lists(st.integers(), max_size=3),
                             min_size=1, max_size=3))
def test_fuzzed_submits_leave_no_stray_file(doc: dict[str, Any], tmp_path: Path, patch: dict[str, Any]) -> None:
    bad = dict(doc, runs=doc["runs"][:1])  # both runs have the same shape; one keeps the examples quick
    bad.update(patch)
    src = tmp_path / "in.json"
    src.write_text(json.dumps(bad))
    store = tmp_path / "fuzzstore"
    try:
        target = submit(src, "acme", store)
    except SitebenchError:
        assert _files(store) == [] or all(json.loads(p.read_text())["id"] != bad.get("id") for p in _files(store))
    else:
        assert target.is_relative_to(store)
        target.unlink()
    assert _files(store) == []


def test_oversize_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.record.io as rio
    monkeypatch.setattr(rio.read_text, "__defaults__", (100,))
    src = tmp_path / "big.json"
    src.write_text("[" * 1000)
    with pytest.raises(CheckFailed, match="byte limit"):
        submit(src, "acme", tmp_path / "s")


def test_cli_submit_bad_inputs(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for i, body in enumerate(["", "{}", "[" * 3000]):
        p = tmp_path / f"{i}.json"
        p.write_text(body)
        r = subprocess.run([sys.executable, "-m", "bench", "submit", str(p), "--org", "acme", "--store", str(store)],
                           capture_output=True, text=True)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert not store.exists() or _files(store) == []


def test_an_unusable_store_or_plot_path_is_one_line_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    r = subprocess.run([sys.executable, "-m", "bench", "submit", str(tmp_path / "missing.json"), "--org", "a",
                        "--store", str(tmp_path / "file" / "sub")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--store" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "bench", "size", "builtin:declared/bitmain-antminer-s21", "--mw", "1",
                        "--plot", str(tmp_path / "file" / "p.png")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--plot" in r.stderr and r.stdout == "", "refused before the table is printed"
