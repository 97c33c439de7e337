"""Progress bars for ``sitebench run``: one bar per run, advancing through its phases."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench.record import Timing
from bench.run.runner import ProgressFn, RunSpec


def run_progress(console: Console, quiet: bool) -> Progress:
    """The progress display (disabled with ``--quiet`` or when stderr is not a terminal's)."""
    return Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.fields[phase]:<10}"),
                    TimeElapsedColumn(), console=console, disable=quiet, transient=False)


def progress_for(progress: Progress, timing: Timing) -> Any:
    """A factory giving each run spec its own bar; updates at most ten times a second."""
    order = ["idle", "setup", "verify", "warmup"] + [f"window-{i}" for i in range(timing.repeats)] + ["tail"]

    def make(spec: RunSpec) -> ProgressFn:
        task = progress.add_task(f"{spec.workload.name[:20]} @ {spec.device}", total=1.0, phase="")
        last = [0.0]

        def update(phase: str, fraction: float) -> None:
            now = time.monotonic()
            if now - last[0] < 0.1 and fraction < 1.0:
                return
            last[0] = now
            i = order.index(phase) if phase in order else 0
            progress.update(task, completed=(i + fraction) / len(order), phase=phase)

        return update

    return make
