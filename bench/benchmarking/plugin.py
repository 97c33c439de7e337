"""pytest plugin: options and a ``sitebench_case`` fixture parametrised over every registered workload.

Registered through the ``pytest11`` entry point, so ``pytest --sitebench-device cpu``
works in any project that installs sitebench. Benchmarks run only with
``--benchmark-only`` or ``--sitebench-bench``; a plain ``pytest`` run skips them.

A benchmark goes through the runner's own phases (:mod:`bench.run.runner`): set
up and verified outside the timer, then each timed round is one measured
window (contiguous, with a marker on the power sampler at each boundary), and
the run's record is built by :func:`bench.measure.runrecord.measured_run` and kept in
``extra_info["sitebench_run"]``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bench.errors import VerificationError
from bench.measure.contention import Busy, snapshot
from bench.measure.phases import Phases, Windows, prepare
from bench.measure.runrecord import RunHead, measured_run
from bench.power.discovery import Policy, open_meters
from bench.power.sampler import Sampler
from bench.record import utc_now
from bench.registry import create_workload, load_workload_class, workload_names
from bench.workload import device_kind, synchronize

#: Rounds shorter than this are batched (several ``step()`` calls per round) so
#: timer resolution and scheduler jitter do not dominate a round, and ten rounds
#: make a power window of over 1 s (10 update periods of the slowest meters).
MIN_ROUND_S = 0.11
#: Seconds idle before the rounds, over which the CPUs other processes leave free are measured.
IDLE_S = 0.3

#: ``--sitebench-rounds`` and ``--sitebench-no-power`` of the pytest session, for :func:`run_case`'s defaults.
_SESSION: dict[str, Any] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--sitebench-*`` options."""
    group = parser.getgroup("sitebench")
    group.addoption("--sitebench-bench", action="store_true", help="run sitebench workload benchmarks")
    group.addoption("--sitebench-device", default=None, help="device (default: cuda when present, else cpu)")
    group.addoption("--sitebench-workload", action="append", default=[], help="only these workloads")
    group.addoption("--sitebench-rounds", type=int, default=10, help="timed rounds per workload (default 10)")
    group.addoption("--sitebench-no-power", action="store_true", help="do not sample power meters")


def pytest_configure(config: pytest.Config) -> None:
    """Keep the session's rounds and power options for :func:`run_case`."""
    _SESSION.update(rounds=config.getoption("sitebench_rounds"), power=not config.getoption("sitebench_no_power"))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Forget them when the session ends (in-process pytest runs share this module)."""
    _SESSION.clear()


def _default_device() -> str:
    try:
        import torch
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    except Exception:
        return "cpu"


def _device(config: pytest.Config) -> str:
    """The benchmarks' device: ``--sitebench-device`` (``cuda`` means ``cuda:0``), else cuda:0 when present."""
    device = config.getoption("sitebench_device") or _default_device()
    return "cuda:0" if device == "cuda" else device


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``sitebench_case`` as (workload, device) over the registry."""
    if "sitebench_case" not in metafunc.fixturenames:
        return
    opt = metafunc.config.getoption
    device = _device(metafunc.config)
    names = [n for n in workload_names() if not opt("sitebench_workload") or n in opt("sitebench_workload")]
    # a workload that does not run on this device kind (a GPU-only kernel on CPU CI) is left out
    names = [n for n in names if device_kind(device) in load_workload_class(n).devices]
    metafunc.parametrize("sitebench_case", [(n, device) for n in names],
                         ids=[f"{n}-{device}" for n in names])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Benchmarks over ``sitebench_case`` run only with ``--benchmark-only`` or ``--sitebench-bench``:
    a plain ``pytest`` in any project that installs sitebench skips them."""
    if config.getoption("sitebench_bench") or config.getoption("benchmark_only", default=False):
        return
    skip = pytest.mark.skip(reason="sitebench benchmarks run with --benchmark-only or --sitebench-bench")
    for item in items:
        if "sitebench_case" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


def _steps_per_round(step: Any, device: str, min_round_s: float) -> int:
    """Steps per round so that one round lasts at least ``min_round_s``.

    Two untimed steps: a warm-up (first-call costs: caches, lazy compilation) and one that is timed.
    """

    step()
    synchronize(device)
    t0 = time.perf_counter()
    step()
    synchronize(device)
    took = time.perf_counter() - t0
    return max(1, min(1000, int(min_round_s / took) + 1)) if took < min_round_s else 1


def open_sampler(device: str, rate_hz: float = 20.0) -> Any:
    """A started sampler over the meters of ``device`` (nvml: that GPU only), or None when none works."""
    try:
        meters = open_meters(None, Policy.here(device)).meters
    except Exception:  # a broken meter back-end must not fail a benchmark
        return None
    if not meters:
        return None
    sampler = Sampler(meters, rate_hz=rate_hz)
    sampler.start()
    return sampler


def run_case(benchmark: Any, name: str, device: str, preset: str = "ci", rounds: int | None = None,
             power: bool | None = None, min_round_s: float = MIN_ROUND_S) -> None:
    """Set up and verify outside the timer, time rounds of ``step()`` calls as measured windows.

    ``rounds`` and ``power`` default to the session's ``--sitebench-rounds`` (10) and
    ``--sitebench-no-power`` (power sampled).

    A round is as many ``step()`` calls as last ``min_round_s``, then one device
    synchronisation and a marker. ``extra_info`` gets the run record
    (``sitebench_run``) and, for people reading pytest-benchmark's JSON, the
    workload, device, unit and units per round.
    """

    rounds = rounds if rounds is not None else int(_SESSION.get("rounds", 10))
    power = power if power is not None else bool(_SESSION.get("power", True))
    if rounds < 1:
        raise pytest.UsageError(f"--sitebench-rounds must be at least 1, not {rounds}")
    wl = create_workload(name)
    params = wl.params_for(preset)
    failure = prepare(wl, device, params)
    if failure:
        wl.teardown()
        raise VerificationError(f"{name} on {device}: {failure}")
    sampler = open_sampler(device) if power else None
    busy = Busy(idle_start=snapshot())
    try:
        time.sleep(IDLE_S)  # the CPUs other processes leave free, to fit the intra-op threads
        busy.fit_threads(device)
        steps = _steps_per_round(wl.step, device, min_round_s)
        phases = Phases(f"{name}@{device}", device, sampler)
        wins = Windows()
        wl.reset_metrics()
        benchmark.group = name
        busy.start = snapshot()
        benchmark.pedantic(lambda: wins.measure(phases, wl.step, steps=steps), rounds=rounds, iterations=1,
                           warmup_rounds=0)
        busy.end = snapshot()
        head = RunHead(workload=name, device=device, unit=wl.unit, params=dict(params), preset=preset,
                       started=utc_now())
        run = measured_run(head, wins.units, wins.durations, sampler=sampler, t_ref=phases.t_ref,
                           windows=wins.markers, phases=phases, tail=False, ceiling=wl.ceiling(device),
                           metrics=wl.metrics())
        run = busy.record(run)
        benchmark.extra_info.update({"workload": name, "device": device, "unit": wl.unit,
                                     "units_per_round": sum(wins.units) / rounds, "steps_per_round": steps,
                                     "sitebench_run": run.to_json()})
    finally:
        if sampler:
            sampler.stop()
        wl.teardown()
        busy.restore_threads()
