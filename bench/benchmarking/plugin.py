"""pytest plugin: options and a ``sitebench_case`` fixture parametrised over every registered workload.

Benchmarks run only with ``--benchmark-only`` or ``--sitebench-bench``; a plain
``pytest`` run skips them so the test suite does not spend minutes timing.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

#: Rounds shorter than this are batched (several ``step()`` calls per round) so
#: timer resolution and scheduler jitter do not dominate a round, and ten rounds
#: make a power window of over 1 s (10 update periods of the slowest meters).
MIN_ROUND_S = 0.11


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--sitebench-*`` options."""
    group = parser.getgroup("sitebench")
    group.addoption("--sitebench-bench", action="store_true", help="run sitebench workload benchmarks")
    group.addoption("--sitebench-device", default=None, help="device (default: cuda when present, else cpu)")
    group.addoption("--sitebench-workload", action="append", default=[], help="only these workloads")
    group.addoption("--sitebench-rounds", type=int, default=10, help="timed rounds per workload (default 10)")
    group.addoption("--sitebench-no-power", action="store_true", help="do not sample power meters")


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
    from bench.registry import load_workload_class, workload_names
    from bench.workload import device_kind
    opt = metafunc.config.getoption
    device = opt("sitebench_device") or _default_device()
    names = [n for n in workload_names() if not opt("sitebench_workload") or n in opt("sitebench_workload")]
    # a workload that does not run on this device kind (a GPU-only kernel on CPU CI) is left out
    names = [n for n in names if device_kind(device) in load_workload_class(n).devices]
    metafunc.parametrize("sitebench_case", [(n, device) for n in names],
                         ids=[f"{n}-{device}" for n in names])


def _steps_per_round(step: Any, device: str, min_round_s: float) -> int:
    """Steps per round so that one round lasts at least ``min_round_s``.

    Two untimed steps: a warm-up (first-call costs: caches, lazy compilation) and one that is timed.
    """
    from bench.workload import synchronize

    step()
    synchronize(device)
    t0 = time.perf_counter()
    step()
    synchronize(device)
    took = time.perf_counter() - t0
    return max(1, min(1000, int(min_round_s / took) + 1)) if took < min_round_s else 1


def run_case(benchmark: Any, name: str, device: str, preset: str = "ci", rounds: int = 10,
             power: bool = True, min_round_s: float = MIN_ROUND_S) -> None:
    """Set up and verify outside the timer, time rounds of ``step()`` calls (synchronised), record extra_info.

    A round is as many ``step()`` calls as last ``min_round_s``, then one device
    synchronisation. ``extra_info`` gets the workload, device, params, unit, units
    per round and, when a meter works here, the power and efficiency over the rounds.
    """
    from bench.benchmarking.power import END, START, open_sampler, power_info
    from bench.registry import create_workload
    from bench.workload import synchronize
    wl = create_workload(name)
    params = wl.params_for(preset)
    wl.setup(device, params)
    sampler = None
    try:
        wl.verify()
        units: list[int] = []
        steps = _steps_per_round(wl.step, device, min_round_s)

        def one_round() -> None:
            for _ in range(steps):
                units.append(wl.step())
            synchronize(device)

        sampler = open_sampler() if power else None
        if sampler:
            sampler.mark(START)
        benchmark.group = name
        benchmark.pedantic(one_round, rounds=rounds, iterations=1, warmup_rounds=0)
        if sampler:
            sampler.mark(END)
        benchmark.extra_info.update({"workload": name, "device": device, "params": params,
                                     "preset": preset, "unit": getattr(wl, "unit", "unit"),
                                     "units_per_round": sum(units) / rounds, "steps_per_round": steps,
                                     "verified": True})
        info = power_info(sampler, float(sum(units))) if sampler else None
        if info:
            info["efficiency"]["unit"] = f"{benchmark.extra_info['unit']}/J"
            benchmark.extra_info.update(info)
    finally:
        if sampler:
            sampler.stop()
        wl.teardown()
