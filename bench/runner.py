"""The runner: idle baseline -> setup -> verify -> warm-up -> measured windows -> idle tail.

Power and throughput come from the same windows: a phase marker (with a
reading of every meter) is set right before the first step of a window and
right after its last step returned (steps synchronise their device). Every
repeat's throughput is kept; no best-of-N.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Mapping

from bench.errors import VerificationError
from bench.power.window.block import empty_block, power_block
from bench.power.sampler import Sampler
from bench.resultfile import utc_now
from bench.stats import summarize
from bench.workload import Workload, synchronize


@dataclass(frozen=True)
class Timing:
    """How long each phase lasts; ``repeats`` measured windows of ``window_s`` each."""

    idle_s: float
    warmup_s: float
    window_s: float
    repeats: int
    tail_s: float

    def total_s(self) -> float:
        """Planned wall time of one workload, excluding setup and verification."""
        return self.idle_s + self.warmup_s + self.window_s * self.repeats + self.tail_s


#: Phase timings per preset. ``ci`` finishes the default suite in well under a
#: minute on 2 cores; ``full`` measures 10 minutes per workload, as MLPerf Power asks.
TIMINGS: dict[str, Timing] = {
    "ci": Timing(idle_s=0.5, warmup_s=0.5, window_s=1.0, repeats=3, tail_s=0.3),
    "full": Timing(idle_s=10.0, warmup_s=30.0, window_s=120.0, repeats=5, tail_s=10.0),
}

ProgressFn = Callable[[str, float], None]


def _noop(phase: str, fraction: float) -> None:
    pass


class Interrupted(Exception):
    """Raised by :func:`run_suite` after Ctrl-C; carries the runs recorded so far."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        super().__init__("interrupted")
        self.runs = runs


def _failed_run(base: dict[str, Any], status: str, error: str) -> dict[str, Any]:
    return {
        **base,
        "status": status,
        "error": error,
        "throughput": {**summarize([]), "samples": [], "units": [], "durations_s": [], "unit": f"{base['unit']}/s"},
        "power": empty_block(),
        "efficiency": {"per_joule": None, "unit": f"{base['unit']}/J"},
        "ceiling": None,
        "ceiling_fraction": None,
        "phases": [],
        "metrics": {},
    }


def _base(workload: Workload, device: str, params: Mapping[str, Any], preset: str | None) -> dict[str, Any]:
    return {
        "workload": workload.name,
        "device": device,
        "params": dict(params),
        "preset": preset,
        "started": utc_now(),
        "verified": False,
        "unit": workload.unit,
    }


def run_workload(
    workload: Workload,
    device: str,
    params: Mapping[str, Any],
    timing: Timing,
    sampler: Sampler | None,
    *,
    preset: str | None = None,
    progress: ProgressFn = _noop,
) -> dict[str, Any]:
    """Run one workload through every phase; return its run record.

    A workload that fails verification (or setup) is never timed: its record
    has ``status: "failed"`` and the reason. KeyboardInterrupt propagates with
    the partial record attached as ``exc.run``.
    """
    base = _base(workload, device, params, preset)
    tag = f"{workload.name}@{device}"
    mark = sampler.mark if sampler else (lambda phase: time.monotonic())
    phases: list[dict[str, Any]] = []
    units: list[int] = []
    durations: list[float] = []
    window_names: list[tuple[str, str]] = []
    t_ref = time.monotonic()

    def phase(name: str, seconds: float, work: bool) -> tuple[float, float, int]:
        t0 = mark(f"{tag}/{name}/start")
        done = 0
        while True:
            now = time.monotonic()
            if now - t0 >= seconds:
                break
            if work:
                done += workload.step()
            else:
                time.sleep(min(0.05, seconds - (now - t0)))
            progress(name, min(1.0, (time.monotonic() - t0) / seconds) if seconds else 1.0)
        if work:
            synchronize(device)  # steps synchronise already; the end marker must follow the device
        t1 = mark(f"{tag}/{name}/end")
        phases.append({"name": name, "start": round(t0 - t_ref, 4), "end": round(t1 - t_ref, 4)})
        return t0, t1, done

    try:
        t_ref = mark(f"{tag}/run/start")
        phase("idle", timing.idle_s, work=False)
        progress("setup", 0.0)
        try:
            workload.setup(device, params)
            progress("verify", 0.0)
            workload.verify()
        except VerificationError as exc:
            return _failed_run(base, "failed", f"verification failed: {exc}")
        except Exception as exc:  # a broken workload must not take the suite down
            return _failed_run(base, "failed", f"setup failed: {type(exc).__name__}: {exc}")
        base["verified"] = True
        ceiling = workload.ceiling(device)
        phase("warmup", timing.warmup_s, work=True)
        workload.reset_metrics()
        for i in range(timing.repeats):
            t0, t1, done = phase(f"window-{i}", timing.window_s, work=True)
            units.append(done)
            durations.append(t1 - t0)
            window_names.append((f"{tag}/window-{i}/start", f"{tag}/window-{i}/end"))
        metrics = workload.metrics()
        phase("tail", timing.tail_s, work=False)
        status, error = "ok", None
    except KeyboardInterrupt as exc:
        status, error, metrics, ceiling = "interrupted", "interrupted by the user", {}, None
        exc.run = None  # type: ignore[attr-defined]
        interrupted = exc
    except Exception as exc:  # out of memory at one sweep point, a crashing kernel: record it, go on
        status, error, metrics, ceiling = "failed", f"step failed: {type(exc).__name__}: {exc}", {}, None
        interrupted = None
    else:
        interrupted = None
    finally:
        try:
            workload.teardown()
        except Exception:
            pass

    if not units:
        record = _failed_run(base, status if status != "ok" else "failed", error or "no measured window")
    else:
        samples = [u / d for u, d in zip(units, durations)]
        pw = power_block(
            sampler, t_ref, window_names,
            (f"{tag}/idle/start", f"{tag}/idle/end") if sampler else None,
            (f"{tag}/run/start", sampler.markers[-1].phase) if sampler else ("", ""),
            (f"{tag}/tail/start", f"{tag}/tail/end") if sampler and status == "ok" else None,
        )
        median = summarize(samples)["median"]
        record = {
            **base,
            "status": status,
            "error": error,
            "throughput": {**summarize(samples), "samples": samples, "units": units,
                           "durations_s": durations, "unit": f"{workload.unit}/s"},
            "power": pw,
            "efficiency": {
                "per_joule": sum(units) / pw["energy_j"] if pw["energy_j"] else None,
                "unit": f"{workload.unit}/J",
            },
            "ceiling": ceiling,
            "ceiling_fraction": median / ceiling if ceiling and median is not None else None,
            "phases": phases,
            "metrics": metrics,
        }
    if sampler:
        sampler.trim()  # this run's power block is built: memory holds one run at a time
    if interrupted is not None:
        interrupted.run = record  # type: ignore[attr-defined]
        raise interrupted
    return record


@dataclass(frozen=True)
class RunSpec:
    """One workload on one device with its parameters.

    ``failed`` is set for a sweep point refused before running (e.g. a model
    that does not fit in device memory at that batch): it is recorded as a
    failed run with that reason and the sweep goes on.
    """

    workload: Workload
    device: str
    params: dict[str, Any]
    preset: str | None = None
    failed: str | None = None


def run_suite(
    specs: list[RunSpec],
    timing: Timing,
    sampler: Sampler | None,
    progress: Callable[[RunSpec], ProgressFn] | None = None,
) -> list[dict[str, Any]]:
    """Run every spec in order.

    Raises:
        Interrupted: after Ctrl-C, carrying every complete run plus the
            interrupted one (``status: "interrupted"``).
    """
    runs: list[dict[str, Any]] = []
    for spec in specs:
        if spec.failed:
            runs.append(_failed_run(_base(spec.workload, spec.device, spec.params, spec.preset), "failed", spec.failed))
            continue
        try:
            runs.append(
                run_workload(spec.workload, spec.device, spec.params, timing, sampler, preset=spec.preset,
                             progress=progress(spec) if progress else _noop)
            )
        except KeyboardInterrupt as exc:
            partial = getattr(exc, "run", None)
            if partial is not None:
                runs.append(partial)
            raise Interrupted(runs) from None
    return runs


def timing_dict(timing: Timing) -> dict[str, Any]:
    """The timing as recorded in a result file's settings."""
    return asdict(timing)
