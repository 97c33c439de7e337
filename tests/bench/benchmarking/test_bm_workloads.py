"""Every registered workload as a pytest-benchmark benchmark (run with --benchmark-only)."""


from bench.benchmarking.plugin import run_case


def test_workload(benchmark, sitebench_case) -> None:  # skipped by the plugin unless benchmarking
    run_case(benchmark, *sitebench_case)  # --sitebench-rounds and --sitebench-no-power reach it through the plugin
    info = benchmark.extra_info
    assert info["units_per_round"] > 0 and info["unit"]
