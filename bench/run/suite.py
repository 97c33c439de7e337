"""What ``sitebench run`` will run: workloads, sweep points and timing, checked before anything starts."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from bench.errors import UsageError
from bench.record import Timing
from bench.registry import all_workload_classes, create_workload
from bench.run.runner import TIMINGS, RunSpec
from bench.workload import Workload, coerce, device_kind


def parse_params(items: list[str], names: list[str]) -> dict[str, dict[str, str]]:
    """``[WORKLOAD.]KEY=VALUE`` items as ``{workload: {key: value}}`` (a bare key goes to every workload)."""
    per: dict[str, dict[str, str]] = {n: {} for n in names}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise UsageError(f"--param {item!r}: expected [WORKLOAD.]KEY=VALUE")
        target, dot, key = key.rpartition(".")
        if dot and target not in per:
            raise UsageError(f"--param {item!r}: workload {target!r} is not in this run")
        for name in ([target] if dot else names):
            per[name][key] = value
    return per


def expected_type(like: Any) -> str:
    """What a command-line value must read as, named for a person: ``"an integer"``, ``"a number"``..."""
    if isinstance(like, bool):
        return "true or false"
    if isinstance(like, int):
        return "an integer"
    if isinstance(like, float):
        return "a number"
    if isinstance(like, (list, tuple)):
        return f"a comma-separated list of {expected_type(like[0]).removeprefix('an ').removeprefix('a ')}s" \
            if like and not isinstance(like[0], str) else "a comma-separated list"
    return "text"


def check_param_types(items: list[str], workloads: list[Workload], preset: str) -> None:
    """Refuse, naming the option, a ``--param`` value that does not read as its parameter's type.

    Each value of a sweep (``batch=1,4,16``) is checked on its own.

    Raises:
        UsageError: ``--param batch=abc: expected an integer``.
    """
    for item in items:
        key, _, value = item.partition("=")
        target, dot, key = key.rpartition(".")
        for wl in workloads:
            defaults = wl.presets.get(preset, {})
            if (dot and wl.name != target) or key not in defaults:
                continue
            like = defaults[key]
            swept = "," in value and isinstance(like, (int, float)) and not isinstance(like, bool)
            for part in value.split(",") if swept else [value]:
                try:
                    coerce(part.strip() if swept else part, like)
                except (ValueError, TypeError, OverflowError):
                    what = expected_type(like) + (" for each value of the sweep" if swept else "")
                    raise UsageError(f"--param {item}: expected {what}"
                                     + (f" ({part!r} is not)" if swept else "")) from None


def timing_for(preset: str, **changes: float | int | None) -> Timing:
    """The preset's timing with the given phases changed (``idle_s``, ``warmup_s``, ``window_s``, ``repeats``).

    Raises:
        UsageError: unknown preset, or a negative phase / non-positive window or repeats.
    """
    if preset not in TIMINGS:
        raise UsageError(f"--preset {preset!r}: expected one of {', '.join(TIMINGS)}")
    given = {k: v for k, v in changes.items() if v is not None}
    for key, value in given.items():
        if value < 0 or (key in ("window_s", "repeats") and value <= 0):
            raise UsageError(f"--{key.removesuffix('_s')} {value}: must be positive")
    return TIMINGS[preset].model_copy(update=given) if given else TIMINGS[preset]


def sweep_points(overrides: dict[str, str], preset: Mapping[str, Any]) -> list[dict[str, str]]:
    """One override set per sweep point.

    A comma-separated value of a numeric parameter (``batch=1,4,16``) is a
    sweep; several swept parameters give every combination.
    """
    swept = {k: v.split(",") for k, v in overrides.items()
             if "," in v and isinstance(preset.get(k), (int, float)) and not isinstance(preset.get(k), bool)}
    for key, values in swept.items():
        if any(not v.strip() for v in values):
            raise UsageError(f"--param {key}={overrides[key]}: empty value in the sweep")
    fixed = {k: v for k, v in overrides.items() if k not in swept}
    return [{**fixed, **dict(zip(swept, combo))} for combo in itertools.product(*swept.values())]


def workloads_for(names: list[str] | None) -> list[Workload]:
    """The named workloads, or the built-in default suite."""
    if names:
        return [create_workload(n) for n in names]
    return [c() for c in all_workload_classes() if getattr(c, "default_suite", False)]


def build_specs(names: list[str] | None, params: list[str], preset: str, device: str) -> list[RunSpec]:
    """Workload instances with their parameters, one per sweep point, checked before anything runs.

    A sweep point that cannot run (a model that does not fit) becomes a failed spec with
    the reason; a single run that cannot is a usage error.
    """
    workloads = workloads_for(names)
    kind = device_kind(device)
    for wl in workloads:
        if kind not in wl.devices:
            raise UsageError(f"workload {wl.name!r} does not run on {device} (supports: {', '.join(wl.devices)})")
    per = parse_params(params, [w.name for w in workloads])
    for item in params:
        key = item.partition("=")[0].rpartition(".")[2]
        if not any(key in w.presets.get(preset, {}) for w in workloads):
            raise UsageError(f"--param {item!r}: no workload in this run has a parameter {key!r}")
    check_param_types(params, workloads, preset)
    specs = []
    for wl in workloads:
        own = {k: v for k, v in per[wl.name].items() if k in wl.presets.get(preset, {})}
        points = sweep_points(own, wl.presets.get(preset, {}))
        for i, point in enumerate(points):
            instance = wl if i == 0 else type(wl)()
            try:
                chosen = instance.params_for(preset, point)
            except ValueError as exc:
                raise UsageError(f"--param for {wl.name}: {exc}") from None
            try:
                instance.preflight(device, chosen)
            except UsageError as exc:
                if len(points) == 1:
                    text = str(exc)
                    raise UsageError(text if text.startswith(f"{wl.name}:") else f"{wl.name}: {text}") from None
                specs.append(RunSpec(instance, device, chosen, preset, failed=f"refused before running: {exc}"))
                continue
            specs.append(RunSpec(instance, device, chosen, preset))
    return specs
