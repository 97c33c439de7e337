"""Parameter checks shared by the hashing workloads: one :class:`~bench.errors.UsageError` line each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.errors import UsageError


def int_param(workload: str, params: Mapping[str, Any], key: str, lo: int, hi: int) -> int:
    """``params[key]`` as an int in lo..hi (bools, fractions and non-numbers refused)."""
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UsageError(f"{workload}: {key}={value!r} is not an integer")
    try:
        number = int(value, 0) if isinstance(value, str) else int(value)
    except ValueError:
        raise UsageError(f"{workload}: {key}={value!r} is not an integer") from None
    if isinstance(value, float) and value != number:
        raise UsageError(f"{workload}: {key}={value!r} is not an integer")
    if not lo <= number <= hi:
        raise UsageError(f"{workload}: {key}={number} is out of range {lo}..{hi}")
    return number


def seed_param(workload: str, params: Mapping[str, Any]) -> int | None:
    """The RNG seed: a non-negative integer, or None/0 for a fresh random one."""
    if params.get("seed") is None:
        return None
    return int_param(workload, params, "seed", 0, 2 ** 63 - 1) or None


def choice_param(workload: str, params: Mapping[str, Any], key: str, allowed: tuple[str, ...],
                 default: str) -> str:
    """``params[key]`` (``default`` when absent), one of ``allowed``."""
    value = params.get(key, default)
    if value not in allowed:
        raise UsageError(f"{workload}: {key}={value!r} is not one of {', '.join(allowed)}")
    return str(value)
