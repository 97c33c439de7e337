"""Progress bars for ``sitebench run``: one bar per run, advancing through its phases.

A soak's bar also shows the running throughput drift (``trend``), which :class:`bench.run.soak.SoakLog`
sets as each window completes.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench.record import Timing
from bench.run.runner import ProgressFn, RunSpec

BEFORE = ["idle", "setup", "verify", "warmup"]


def run_progress(console: Console, quiet: bool) -> Progress:
    """The progress display (disabled with ``--quiet`` or when stderr is not a terminal's)."""
    return Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.fields[phase]:<10}"),
                    TimeElapsedColumn(), TextColumn("{task.fields[trend]}"), console=console, disable=quiet,
                    transient=False)


def position(phase: str, repeats: int) -> int:
    """Where ``phase`` falls among the run's phases (idle, setup, verify, warm-up, each window, tail)."""
    if phase in BEFORE:
        return BEFORE.index(phase)
    if phase.startswith("window-") and phase[7:].isdigit():
        return len(BEFORE) + min(int(phase[7:]), repeats)
    return len(BEFORE) + repeats if phase == "tail" else 0


def progress_for(progress: Progress, timing: Timing) -> Any:
    """A factory giving each run spec its own bar; updates at most ten times a second."""
    total = len(BEFORE) + timing.repeats + 1

    def make(spec: RunSpec) -> ProgressFn:
        task = progress.add_task(f"{spec.workload.name[:20]} @ {spec.device}", total=1.0, phase="", trend="")
        last = [0.0]

        def update(phase: str, fraction: float) -> None:
            now = time.monotonic()
            if now - last[0] < 0.1 and fraction < 1.0:
                return
            last[0] = now
            progress.update(task, completed=(position(phase, timing.repeats) + fraction) / total, phase=phase)

        return update

    return make


def trend_updater(progress: Progress) -> Any:
    """Sets the trend shown beside the bar of the run in progress (the last bar added)."""

    def update(text: str) -> None:
        if progress.task_ids:
            progress.update(progress.task_ids[-1], trend=text)

    return update
