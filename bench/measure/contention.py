"""How busy the machine was while a run measured: other processes' CPU time, a VM's steal time, throttling.

A CPU figure measured while other processes compete for the cores is not the
machine's figure (and package power then includes their work too). The runner
takes a :class:`CpuTimes` snapshot at the edges of the idle baseline and of the
measured windows; :func:`contention` turns two snapshots into the record's
:class:`~bench.record.Contention` block, and :func:`free_cpus` tells how many
CPUs the idle baseline left free, so a run's intra-op threads fit the cores it
can actually have (oversubscribed OpenMP threads spin-wait on each other: three
busy loops on two cores made the tiny model's decode 18x slower, not the 2.5x a
fair share would cost).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.record import Contention, Run, contention_reasons

THROTTLE_GLOB = "cpu[0-9]*/thermal_throttle/*_throttle_count"
CPU_SYSFS = Path("/sys/devices/system/cpu")


@dataclass(frozen=True)
class CpuTimes:
    """The machine's CPU seconds (busy, all, steal) and this process's own, at one moment."""

    t: float
    busy: float
    total: float
    steal: float | None
    own: float
    throttle: int | None


def throttle_count(root: Path = CPU_SYSFS) -> int | None:
    """The sum of the CPUs' thermal throttle counters (Intel's ``thermal_throttle``); None where there are none."""
    total, found = 0, False
    for path in root.glob(THROTTLE_GLOB):
        try:
            total += int(path.read_text().strip())
            found = True
        except (OSError, ValueError):
            continue
    return total if found else None


def _allowed() -> set[int] | None:
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def snapshot() -> CpuTimes:
    """Now: the CPU times (psutil) of the CPUs this process may use, and this process's own (children included).

    Only the CPUs in this process's affinity count, so a container pinned to a few
    cores of a busy host measures its own cores, not the host's.
    """
    allowed = _allowed()
    per_cpu = psutil.cpu_times(percpu=True)
    rows = [t._asdict() for i, t in enumerate(per_cpu) if allowed is None or i in allowed] or \
        [t._asdict() for t in per_cpu]
    busy = total = 0.0
    steal: float | None = 0.0 if "steal" in rows[0] else None
    for fields in rows:
        # guest time is counted inside user already; steal is time this machine did not get at all
        row_total = sum(v for k, v in fields.items() if k not in ("guest", "guest_nice"))
        row_steal = fields.get("steal", 0.0)
        total += row_total
        busy += row_total - fields.get("idle", 0.0) - fields.get("iowait", 0.0) - row_steal
        if steal is not None:
            steal += row_steal
    own = psutil.Process().cpu_times()
    return CpuTimes(t=time.monotonic(), busy=busy, total=total, steal=steal,
                    own=own.user + own.system + own.children_user + own.children_system, throttle=throttle_count())


def cpus() -> int:
    """The CPUs this process may run on."""
    allowed = _allowed()
    return max(1, len(allowed) if allowed else psutil.cpu_count(logical=True) or 1)


def others_share(a: CpuTimes, b: CpuTimes, n_cpus: int) -> float:
    """The share of the machine's CPU time (``n_cpus`` x wall time) other processes used between ``a`` and ``b``."""
    wall = (b.t - a.t) * n_cpus
    if wall <= 0:
        return 0.0
    others = (b.busy - a.busy) - (b.own - a.own)
    return min(1.0, max(0.0, others / wall))


def free_cpus(a: CpuTimes, b: CpuTimes, n_cpus: int) -> int:
    """Whole CPUs other processes left free between ``a`` and ``b`` (at least 1)."""
    return max(1, min(n_cpus, round(n_cpus * (1.0 - others_share(a, b, n_cpus)))))


def contention(a: CpuTimes, b: CpuTimes, *, idle: tuple[CpuTimes, CpuTimes] | None = None,
               torch_threads: int | None = None,
               gpu_throttled: list[str] | None = None) -> Contention:
    """The record's contention block for the measured span between ``a`` and ``b``."""
    n = cpus()
    others = others_share(a, b, n)
    total = b.total - a.total
    steal = None
    if a.steal is not None and b.steal is not None and total > 0:
        steal = min(1.0, max(0.0, (b.steal - a.steal) / total))
    events = b.throttle - a.throttle if a.throttle is not None and b.throttle is not None else None
    events = max(0, events) if events is not None else None
    reasons = contention_reasons(others, steal, events, gpu_throttled or [])
    return Contention(cpus=n, others_cpu=round(others, 4), steal=round(steal, 4) if steal is not None else None,
                      throttle_events=events, gpu_throttled=gpu_throttled or [],
                      idle_others_cpu=round(others_share(*idle, n), 4) if idle else None, torch_threads=torch_threads,
                      contended=bool(reasons), reasons=reasons)


def intra_op_threads() -> int | None:
    """Torch's intra-op thread count, when a workload has loaded torch (None otherwise)."""
    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else None


def set_intra_op_threads(n: int) -> None:
    """Set torch's intra-op threads, when a workload has loaded torch."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)


@dataclass
class Busy:
    """How busy the machine was: CPU-time snapshots at the idle baseline's edges and the measured windows'.

    After the idle baseline, torch's intra-op threads on a CPU run are fitted to
    the CPUs other processes left free (unless ``OMP_NUM_THREADS`` says how many),
    and put back after the run.
    """

    idle_start: CpuTimes | None = None
    idle_end: CpuTimes | None = None
    start: CpuTimes | None = None
    end: CpuTimes | None = None
    threads: int | None = None
    original_threads: int | None = None

    def fit_threads(self, device: str) -> None:
        """Note the idle baseline's end; on a CPU, fit the intra-op threads to the CPUs left free."""
        self.idle_end = snapshot()
        self.original_threads = intra_op_threads()
        if device != "cpu" or self.original_threads is None or self.idle_start is None:
            self.threads = self.original_threads
            return
        if os.environ.get("OMP_NUM_THREADS"):
            self.threads = self.original_threads
            return
        self.threads = min(self.original_threads, free_cpus(self.idle_start, self.idle_end, cpus()))
        set_intra_op_threads(self.threads)

    def restore_threads(self) -> None:
        """Put the intra-op thread count back as it was before the run."""
        if self.original_threads is not None and self.threads != self.original_threads:
            set_intra_op_threads(self.original_threads)

    def record(self, run: Run) -> Run:
        """``run`` with its contention block, when its measured windows were bracketed."""
        if self.start is None or self.end is None:
            return run
        gpu = sorted({m.name for m in run.power.meters if m.telemetry_summary is not None and m.telemetry_summary.throttled})
        idle = (self.idle_start, self.idle_end) if self.idle_start and self.idle_end else None
        block = contention(self.start, self.end, idle=idle, torch_threads=self.threads, gpu_throttled=gpu)
        return run.model_copy(update={"contention": block})
