"""recover puts back every knob a killed run left changed, whatever front end journaled it: one line per knob
restored, the device it could not reach named (exit 1), knobs already put back left alone, and a journal's knob
lines read as its own (no damage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.measure.journal import Journal
from bench.measure.recover import recover
from bench.power.knobs.knob import OPENERS, Allowed, Knob, KnobFailed, Value
from bench.record import System, new_document

#: The device each fake knob "holds": target -> value.
HELD: dict[str, Value] = {}


class HeldKnob(Knob):
    """A knob whose device is :data:`HELD`; a target starting with ``down`` cannot be reached."""

    kind = "test.knob"
    unit = "W"
    permission = "nothing"

    def read(self) -> Value:
        return HELD[self.target]

    def allowed(self) -> Allowed:
        return Allowed(low=0.0, high=1000.0)

    def missing_permission(self) -> str | None:
        return None

    def set(self, value: Value) -> None:
        HELD[self.target] = value

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target}


def _open(spec: dict[str, Any]) -> Knob:
    target = str(spec["target"])
    if target.startswith("down"):
        raise KnobFailed(f"test.knob on {target}: no answer from {target} (connection refused)")
    return HeldKnob(target)


@pytest.fixture(autouse=True)
def knobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(OPENERS, "test.knob", _open)
    HELD.clear()


def _knob(target: str, original: Value) -> dict[str, Any]:
    return {"type": "knob", "label": f"test.knob on {target}", "spec": {"kind": "test.knob", "target": target},
            "unit": "W", "original": original}


def write_journal(path: Path, lines: list[dict[str, Any]]) -> Path:
    journal = Journal(path)
    journal.header(new_document(System()), [])
    for line in lines:
        journal.write(line)
    journal.close()
    return path


def test_every_knob_changed_and_not_put_back_is_restored_and_the_others_left_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    HELD.update({"a": 300.0, "b": 250.0, "c": 123.0})
    journal = write_journal(tmp_path / "r.json.journal.jsonl", [
        _knob("a", 700.0), {"type": "knob_set", "label": "test.knob on a", "value": 300.0, "read_back": 300.0},
        _knob("b", 500.0), {"type": "knob_set", "label": "test.knob on b", "value": 250.0, "read_back": 250.0},
        _knob("c", 400.0), {"type": "knob_restored", "label": "test.knob on c", "value": 400.0},
        {"type": "knob_set", "label": "test.knob on a", "value": 350.0, "read_back": 350.0},
        {"type": "knob_restored", "label": "test.knob on b", "value": 500.0},  # killed while restoring: a is left
    ])
    assert recover(journal).clean, "knob lines are the journal's own lines, not damage"
    code = main(["recover", str(journal)])
    out = capsys.readouterr().out
    assert code == 0
    assert [x for x in out.splitlines() if x.startswith("restored:")] == ["restored: test.knob on a: restored to 700.0"]
    assert HELD == {"a": 700.0, "b": 250.0, "c": 123.0}, "knobs put back by the run are not touched again"


def test_a_device_that_cannot_be_reached_is_named_and_the_others_still_restored(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    HELD.update({"a": 300.0})
    journal = write_journal(tmp_path / "r.json.journal.jsonl", [
        _knob("down-10.0.0.9:4028", 3200.0), _knob("a", 700.0),
        {"type": "knob", "label": "gpu.power_limit on gpu:9", "spec": {"kind": "no.such.kind"}, "unit": "W",
         "original": 700.0},
        {"type": "knob", "label": "test.knob on x", "spec": "not a spec", "unit": "W", "original": 1.0},
    ])
    code = main(["recover", str(journal)])
    captured = capsys.readouterr()
    assert code == 1
    assert HELD["a"] == 700.0 and "restored: test.knob on a: restored to 700.0" in captured.out
    failures = [x for x in captured.err.splitlines() if x.startswith("NOT RESTORED:")]
    assert failures == [
        "NOT RESTORED: test.knob on down-10.0.0.9:4028: could not restore 3200.0: test.knob on down-10.0.0.9:4028: "
        "no answer from down-10.0.0.9:4028 (connection refused)",
        "NOT RESTORED: gpu.power_limit on gpu:9: could not restore 700.0: unknown knob kind 'no.such.kind'",
        "NOT RESTORED: test.knob on x: its journal line does not say how to restore it",
    ]
    assert (tmp_path / "r.json").exists(), "the result file is rebuilt all the same"


def test_a_sweep_point_line_that_fails_its_types_is_reported_as_damage(tmp_path: Path) -> None:
    journal = write_journal(tmp_path / "r.json.journal.jsonl", [
        {"type": "sweep-point", "index": 0, "setting": {"knob": "gpu.power_limit", "requested": "1e999x" * 0}},
    ])
    rec = recover(journal)
    assert not rec.clean
    assert any("a sweep-point line that fails its types" in d.reason for d in rec.damage)


def test_a_clean_journal_with_nothing_changed_restores_nothing(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    journal = write_journal(tmp_path / "r.json.journal.jsonl", [])
    assert main(["recover", str(journal)]) == 0
    assert "restored:" not in capsys.readouterr().out
