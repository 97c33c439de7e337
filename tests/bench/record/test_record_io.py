"""The typed record: the shipped schema equals the types, version 1 loads, hostile JSON is refused."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bench.errors import InvalidResultFile
from bench.record import from_json, load, parse_json
from bench.record import schema as record_schema

V1 = Path(__file__).parent / "result_v1.json"


def test_shipped_schema_is_generated_from_the_types() -> None:
    assert record_schema.shipped() == json.loads(record_schema.text()), \
        "bench/schemas/result-2.schema.json is stale: run python -m bench.record.schema"


def test_json_schema_refuses_what_the_types_refuse() -> None:
    obj = load(V1).to_json()
    obj["runs"][0]["throughput"]["max"] = "1e999"  # type: ignore[index]
    assert list(jsonschema.Draft202012Validator(record_schema.shipped()).iter_errors(obj))
    with pytest.raises(InvalidResultFile, match=r"\$\.runs\[0\]\.throughput\.max"):
        from_json(obj)


def test_unknown_version_is_one_line() -> None:
    with pytest.raises(InvalidResultFile, match="expected one of"):
        from_json({"schema": "sitebench.result/9"})


def test_duplicate_key_is_refused_with_its_path() -> None:
    text = '{"schema": "x", "runs": [{"a": 1, "b": {"source": 1, "source": 2}}]}'
    with pytest.raises(InvalidResultFile, match=r"\$\.runs\[0\]\.b: key 'source' appears twice"):
        parse_json(text)


@pytest.mark.parametrize("mutate,where", [
    (lambda r: r["throughput"].__setitem__("min", -1.0), "throughput.min"),
    (lambda r: r["throughput"].__setitem__("max", "x" * 5000), "throughput.max"),
    (lambda r: r["power"]["meters"][0].__setitem__("peak_w", 1e308), "peak_w"),
    (lambda r: r.__setitem__("started", "\u0000"), "started"),
    (lambda r: r["phases"][0].pop("start"), "phases[0].start"),
    (lambda r: r.__setitem__("surprise", 1), "surprise"),
    (lambda r: r.__setitem__("verified", 1), "verified"),
])
def test_hostile_fields_are_refused(mutate, where) -> None:
    obj = load(V1).to_json()
    mutate(obj["runs"][0])  # type: ignore[index]
    with pytest.raises(InvalidResultFile, match=where.replace("[", r"\[").replace("]", r"\]")):
        from_json(obj)


def test_long_hostname_is_refused() -> None:
    obj = load(V1).to_json()
    obj["system"]["hostname"] = "h" * 20_000_000  # type: ignore[index]
    with pytest.raises(InvalidResultFile, match=r"\$\.system\.hostname"):
        from_json(obj)
