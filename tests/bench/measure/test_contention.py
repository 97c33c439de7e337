"""A busy machine is measured, flagged and (on a CPU) given fewer intra-op threads; a file cannot hide it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench.measure import contention as load
from bench.record import Contention, contention_reasons
from bench.run.runner import Timing, run_workload
from bench.validation import run_checks
from tests import records
from tests.bench.run.test_runner import Sleeper


def times(t: float, busy: float, own: float, total: float | None = None, steal: float | None = 0.0,
          throttle: int | None = None) -> load.CpuTimes:
    return load.CpuTimes(t=t, busy=busy, total=total if total is not None else 2 * t, steal=steal, own=own,
                         throttle=throttle)


def test_others_share_leaves_this_process_out() -> None:
    a, b = times(0.0, 0.0, 0.0), times(10.0, 15.0, 5.0)  # 2 CPUs x 10 s; 15 CPU-s busy, 5 of them ours
    assert load.others_share(a, b, 2) == pytest.approx(0.5)
    assert load.free_cpus(a, b, 2) == 1
    assert load.free_cpus(a, times(10.0, 20.0, 0.0), 2) == 1  # never fewer than one
    assert load.free_cpus(a, times(10.0, 1.0, 0.0), 2) == 2


def test_steal_and_throttle_make_a_run_contended(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "cpus", lambda: 2)
    quiet = load.contention(times(0.0, 0.0, 0.0), times(10.0, 10.0, 9.8))
    assert not quiet.contended and quiet.reasons == []
    stolen = load.contention(times(0.0, 0.0, 0.0, total=0.0), times(10.0, 10.0, 9.8, total=20.0, steal=2.0))
    assert stolen.steal == pytest.approx(0.1)
    assert stolen.contended and "steal" in stolen.reasons[0]
    hot = load.contention(times(0.0, 0.0, 0.0, throttle=7), times(10.0, 10.0, 9.8, throttle=9))
    assert hot.throttle_events == 2 and hot.contended and "throttled 2" in hot.reasons[0]
    gpu = load.contention(times(0.0, 0.0, 0.0), times(10.0, 10.0, 9.8), gpu_throttled=["nvml:0"])
    assert gpu.contended and gpu.reasons == ["nvml:0 throttled"]


def test_throttle_counters_are_summed_from_sysfs(tmp_path: Path) -> None:
    assert load.throttle_count(tmp_path) is None  # AMD, VMs: no counters at all
    for cpu, core, package in (("cpu0", 3, 1), ("cpu1", 4, 1)):
        d = tmp_path / cpu / "thermal_throttle"
        d.mkdir(parents=True)
        (d / "core_throttle_count").write_text(f"{core}\n")
        (d / "package_throttle_count").write_text(f"{package}\n")
    assert load.throttle_count(tmp_path) == 9


@pytest.fixture
def busy_machine() -> object:
    """One more busy process than this machine has CPUs, each running before the test goes on."""
    n = load.cpus() + 1
    procs = [subprocess.Popen([sys.executable, "-c", "import sys; print(flush=True); sys.stdout.close()\nwhile True: pass"],
                              stdout=subprocess.PIPE) for _ in range(n)]
    try:
        for p in procs:
            assert p.stdout is not None
            p.stdout.readline()  # the loop has started
        yield procs
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_a_run_on_a_loaded_machine_is_flagged_and_its_threads_fit_the_free_cpus(busy_machine: object) -> None:
    before = torch.get_num_threads()
    timing = Timing(idle_s=0.5, warmup_s=0.05, window_s=0.5, repeats=2, tail_s=0.05)
    run = run_workload(Sleeper(), "cpu", {"units": 10, "fail": False}, timing, None).run
    c = run.contention
    assert c is not None and c.contended
    assert c.others_cpu > 0.3 and c.idle_others_cpu is not None and c.idle_others_cpu > 0.3
    assert "other processes used" in c.reasons[0]
    if load.cpus() > 1 and before > 1:
        assert c.torch_threads is not None and c.torch_threads < before
    assert torch.get_num_threads() == before  # put back after the run


def test_validate_notes_a_contended_run_and_refuses_a_hidden_one() -> None:
    busy = Contention(cpus=2, others_cpu=0.6, steal=0.0, contended=True,
                      reasons=contention_reasons(0.6, 0.0, None, []))
    run = records.run().model_copy(update={"contention": busy})
    doc = records.document([run])
    notes = [f for f in run_checks(doc) if f.check == "contention"]
    assert [f.level for f in notes] == ["note"] and "busy machine" in notes[0].message
    hidden = run.model_copy(update={"contention": busy.model_copy(update={"contended": False, "reasons": []})})
    found = [f for f in run_checks(doc.model_copy(update={"runs": [hidden]})) if f.check == "contention"]
    assert [f.level for f in found] == ["error"] and found[0].path == "$.runs[0].contention"
