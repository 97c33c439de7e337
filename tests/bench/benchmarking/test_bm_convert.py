"""Round-trip between pytest-benchmark JSON and sitebench.result/1."""

import pytest

from bench.benchmarking.convert import from_result, to_result
from bench.errors import InvalidResultFile
from bench.validation import validate
from bench.validation.core import errors


def _bench_json() -> dict:
    return {"benchmarks": [{"group": "sleepy", "name": "test_workload[sleepy-cpu]",
                            "extra_info": {"workload": "sleepy", "device": "cpu", "params": {"n": 2},
                                           "unit": "hash", "units_per_round": 10.0, "preset": "ci",
                                           "verified": True},
                            "stats": {"data": [0.5, 0.25, 1.0], "median": 0.5}}]}


def test_rounds_become_throughput_samples() -> None:
    doc = to_result(_bench_json())
    run = doc["runs"][0]
    assert run["workload"] == "sleepy" and run["params"] == {"n": 2}
    assert run["throughput"]["samples"] == [20.0, 40.0, 10.0]
    assert run["throughput"]["median"] == 20.0
    assert run["throughput"]["unit"] == "hash/s"


def test_round_trip() -> None:
    back = from_result(to_result(_bench_json()))
    again = to_result(back)
    assert again["runs"][0]["throughput"]["samples"] == [20.0, 40.0, 10.0]
    assert back["benchmarks"][0]["stats"]["data"] == [0.5, 0.25, 1.0]


def test_rejects_non_benchmark_json() -> None:
    with pytest.raises(InvalidResultFile):
        to_result({"runs": []})


def test_power_and_efficiency_carried_both_ways() -> None:
    meter = {"name": "model:cpu", "scope": "modelled", "method": "model", "measured": False, "readings": 36}
    bj = _bench_json()
    bj["benchmarks"][0]["extra_info"].update(
        power={"avg_w": 15.0 / 1.75, "energy_j": 15.0, "window_s": 1.75, "scope": "modelled", "measured": False,
               "modelled": True, "meters": [meter]},
        efficiency={"per_joule": 2.0, "unit": "hash/J"})  # 3 rounds x 10 hashes / 15 J
    doc = to_result(bj)
    run = doc["runs"][0]
    assert run["power"]["energy_j"] == 15.0 and run["power"]["measured"] is False
    assert run["power"]["meters"] == [meter]
    assert run["efficiency"] == {"per_joule": 2.0, "unit": "hash/J"}
    assert errors(validate(doc)) == []  # the same checks as any result file
    info = from_result(doc)["benchmarks"][0]["extra_info"]
    assert info["power"]["modelled"] is True and info["power"]["energy_j"] == 15.0
    assert info["efficiency"]["per_joule"] == 2.0


def test_without_power_no_power_block() -> None:
    run = to_result(_bench_json())["runs"][0]
    assert run["power"]["energy_j"] is None and run["efficiency"]["per_joule"] is None
    assert "power" not in from_result(to_result(_bench_json()))["benchmarks"][0]["extra_info"]


def test_a_refused_benchmark_power_window_stays_refused_after_conversion() -> None:
    from bench.benchmarking.convert import _power

    run_power = _power({"power": {"avg_w": 20.0, "energy_j": 40.0, "scope": "modelled", "valid": False}})
    assert run_power["valid_for_sizing"] is False and run_power["invalid_reasons"]
    assert _power({"power": {"avg_w": 20.0, "energy_j": 40.0, "scope": "node", "valid": True}})["valid_for_sizing"]
