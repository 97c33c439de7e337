"""No negative and no non-finite count anywhere in the record: the typed fields start at 0, and the free-form maps
(metrics, params, a unit's details) refuse a negative number under a key that names a count, a rate or a latency."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from bench.errors import InvalidResultFile
from bench.record import Run, from_json, parse_json
from bench.record.bounds import counts_something
from tests.records import document, run


@pytest.mark.parametrize("key", ["shares", "total_output_tokens", "steady_input_tokens", "hw_errors", "polls_failed",
                                 "completed", "failed", "failures.timeout", "decode_tok_s", "ttft_ms", "tpot_ms",
                                 "request_throughput", "hw_error_rate", "batch", "max_new_tokens", "prompt_len",
                                 "num_prompts", "chips_expected", "steps", "j_per_token", "steady_cv"])
def test_keys_that_count(key: str) -> None:
    assert counts_something(key)


@pytest.mark.parametrize("key", ["seed", "temp_max_c", "steady_start_s", "share_ratio", "code_path", "mbu", "offset"])
def test_keys_that_do_not(key: str) -> None:
    assert not counts_something(key)


def _obj(**update: Any) -> dict[str, Any]:
    r = run(metrics={"shares": 12, "total_output_tokens": 640, "temp_max_c": -5.0, "seed": -1})
    obj = json.loads(json.dumps(document([r]).to_json()))
    obj["runs"][0].update(update)
    return obj


def test_honest_counts_and_signed_gauges_pass() -> None:
    assert from_json(_obj()).runs[0].metrics["temp_max_c"] == -5.0


@pytest.mark.parametrize(("where", "value"), [
    ("metrics", {"shares": -1}), ("metrics", {"total_output_tokens": -640}), ("metrics", {"failures.http": -2}),
    ("metrics", {"ttft_ms": -0.5}), ("params", {"batch": -4}), ("params", {"prompt_len": [16, -1]}),
])
def test_a_negative_count_in_a_map_is_refused(where: str, value: dict[str, Any]) -> None:
    obj = _obj()
    obj["runs"][0][where] = {**obj["runs"][0].get(where, {}), **value}
    with pytest.raises(InvalidResultFile) as info:
        from_json(obj)
    assert info.value.json_path == f"$.runs[0].{where}" and "negative" in info.value.reason


def test_a_negative_count_in_a_units_details_is_refused() -> None:
    obj = _obj(hardware={"kind": "asic", "chips": 3, "details": {"chips_expected": -342}})
    with pytest.raises(InvalidResultFile, match="negative"):
        from_json(obj)
    obj["runs"][0]["hardware"]["chips"] = -3
    with pytest.raises(InvalidResultFile, match=r"hardware\.chips"):
        from_json(obj)


@pytest.mark.parametrize(("block", "key", "value"), [
    ("throughput", "units", [-1.0, 10.0, 10.0]), ("throughput", "durations_s", [0.0, 1.0, 1.0]),
    ("throughput", "samples", [-10.0, 10.0, 10.0]), ("throughput", "rate", -10.0), ("throughput", "cv", -0.1),
    ("power", "energy_j", -300.0), ("power", "window_s", -3.0), ("power", "avg_w", -100.0),
    ("efficiency", "per_joule", -0.1), ("power", "window_energy_j", [-100.0, 100.0, 100.0]),
])
def test_a_negative_figure_is_refused_by_its_type(block: str, key: str, value: Any) -> None:
    obj = _obj()
    obj["runs"][0][block][key] = value
    with pytest.raises(InvalidResultFile, match=rf"\$\.runs\[0\]\.{block}\.{key}"):
        from_json(obj)


def test_a_negative_meter_reading_count_is_refused() -> None:
    obj = _obj()
    obj["runs"][0]["power"]["meters"][0]["readings"] = -300
    with pytest.raises(InvalidResultFile, match=r"meters\[0\]\.readings"):
        from_json(obj)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_non_finite_count_is_refused(text: str) -> None:
    raw = json.dumps(_obj()).replace('"total_output_tokens": 640', f'"total_output_tokens": {text}')
    with pytest.raises((InvalidResultFile, ValidationError)):
        from_json(parse_json(raw, "r.json"))


def test_a_count_as_a_float_where_the_type_is_an_integer_is_refused() -> None:
    obj = _obj()
    obj["runs"][0]["power"]["meters"][0]["readings"] = 300.5
    with pytest.raises(InvalidResultFile):
        from_json(obj)
    assert Run.model_validate(_obj()["runs"][0]).metrics["shares"] == 12
