"""Version 1 files load through the upgrade step and still satisfy the shipped version 2 schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bench.record import SCHEMA_ID, Document, load
from bench.record import schema as record_schema
from bench.record.upgrade import upgrade_v1

V1 = Path(__file__).parent / "result_v1.json"


def test_version_1_file_loads_upgraded() -> None:
    doc = load(V1)
    assert isinstance(doc, Document)
    raw = json.loads(V1.read_text())
    run, old = doc.runs[0], raw["runs"][0]
    assert run.throughput.rate == pytest.approx(sum(old["throughput"]["units"]) / sum(old["throughput"]["durations_s"]))
    assert run.efficiency.per_joule == old["efficiency"]["per_joule"]
    assert run.power.energy_j == old["power"]["energy_j"]
    assert doc.to_json()["schema"] == SCHEMA_ID


def test_upgraded_file_satisfies_the_shipped_json_schema() -> None:
    obj = upgrade_v1(json.loads(V1.read_text()))
    jsonschema.Draft202012Validator(record_schema.shipped()).validate(obj)
    written = load(V1).to_json()
    jsonschema.Draft202012Validator(record_schema.shipped()).validate(written)


def test_a_wrong_version_1_figure_stays_wrong_after_the_upgrade() -> None:
    from bench.validation import validate_text

    obj = json.loads(V1.read_text())
    obj["runs"][0]["throughput"]["median"] *= 2
    assert any(f.path == "$.runs[0].throughput.median" for f in validate_text(json.dumps(obj)).findings)
