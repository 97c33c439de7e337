"""Every registered workload as a pytest-benchmark benchmark (run with --benchmark-only)."""


from bench.benchmarking.plugin import run_case


def test_workload(benchmark, sitebench_case, request) -> None:  # skipped by the plugin unless benchmarking
    cfg = request.config
    name, device = sitebench_case
    run_case(benchmark, name, device, rounds=cfg.getoption("sitebench_rounds"),
             power=not cfg.getoption("sitebench_no_power"))
    info = benchmark.extra_info
    assert info["units_per_round"] > 0 and info["unit"]
