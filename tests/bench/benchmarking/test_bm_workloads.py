"""Every registered workload as a pytest-benchmark benchmark (run with --benchmark-only)."""

import pytest

from bench.benchmarking.plugin import run_case


def test_workload(benchmark, sitebench_case, request) -> None:
    cfg = request.config
    if not (cfg.getoption("sitebench_bench") or cfg.getoption("benchmark_only")):
        pytest.skip("benchmarks run with --benchmark-only or --sitebench-bench")
    name, device = sitebench_case
    run_case(benchmark, name, device, rounds=cfg.getoption("sitebench_rounds"),
             power=not cfg.getoption("sitebench_no_power"))
    info = benchmark.extra_info
    assert info["units_per_round"] > 0 and info["unit"]
