"""pytest plugin: options and a ``sitebench_case`` fixture parametrised over every registered workload.

Benchmarks run only with ``--benchmark-only`` or ``--sitebench-bench``; a plain
``pytest`` run skips them so the test suite does not spend minutes timing.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--sitebench-bench``, ``--sitebench-device`` and ``--sitebench-workload``."""
    group = parser.getgroup("sitebench")
    group.addoption("--sitebench-bench", action="store_true", help="run sitebench workload benchmarks")
    group.addoption("--sitebench-device", default=None, help="device (default: cuda when present, else cpu)")
    group.addoption("--sitebench-workload", action="append", default=[], help="only these workloads")


def _default_device() -> str:
    try:
        import torch
        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:
        return "cpu"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``sitebench_case`` as (workload, device) over the registry."""
    if "sitebench_case" not in metafunc.fixturenames:
        return
    from bench.registry import workload_names
    opt = metafunc.config.getoption
    names = [n for n in workload_names() if not opt("sitebench_workload") or n in opt("sitebench_workload")]
    device = opt("sitebench_device") or _default_device()
    metafunc.parametrize("sitebench_case", [(n, device) for n in names],
                         ids=[f"{n}-{device}" for n in names])


def run_case(benchmark: Any, name: str, device: str, preset: str = "ci") -> None:
    """Set up and verify outside the timer, time ``step()`` (synchronised), record extra_info."""
    from bench.registry import create_workload
    from bench.workload import synchronize
    wl = create_workload(name)
    params = wl.params_for(preset)
    wl.setup(device, params)
    try:
        wl.verify()
        units: list[int] = []

        def step() -> None:
            units.append(wl.step())
            synchronize(device)

        benchmark.group = name
        benchmark.pedantic(step, rounds=5, warmup_rounds=1)
        per_round = units[-1] if units else 0
        benchmark.extra_info.update({"workload": name, "device": device, "params": params,
                                     "preset": preset, "unit": getattr(wl, "unit", "unit"),
                                     "units_per_round": per_round, "verified": True})
    finally:
        wl.teardown()
