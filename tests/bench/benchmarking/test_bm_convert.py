"""Round-trip between pytest-benchmark JSON and sitebench.result/1."""

import pytest

from bench.benchmarking.convert import from_result, to_result
from bench.errors import InvalidResultFile


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
