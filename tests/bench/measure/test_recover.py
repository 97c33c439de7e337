"""Recover: the run in progress is found by its start line, whatever came before it."""

from __future__ import annotations

from pathlib import Path


def test_recover_finds_the_run_in_progress_after_a_point_refused_before_running(tmp_path: Path) -> None:
    from bench.measure.journal import Journal
    from bench.measure.recover import recover
    from bench.measure.runrecord import RunHead
    from bench.record import System, new_document
    from tests.records import run

    j = Journal(tmp_path / "r.json.journal.jsonl")
    j.header(new_document(System()), [])
    j.run(RunHead("llm-decode", "cpu", "token").failed("failed", "refused before running: 9 GB needed"))
    j.run_start(RunHead("sha256d", "cpu", "hash"), "sha256d@cpu")
    j.close()
    doc, _ = recover(j.path)
    assert [(r.workload, r.status) for r in doc.runs] == [("llm-decode", "failed"), ("sha256d", "interrupted")]
    assert run().ok
