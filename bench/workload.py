"""The Workload contract every built-in and third-party workload implements.

A workload is discovered through the entry-point group ``sitebench.workloads``
(see :mod:`bench.registry`). The runner calls, in order: ``setup(device, params)``,
``verify()`` (raises :class:`~bench.errors.VerificationError` when the output
disagrees with an independent reference; such a workload is never timed),
``step()`` repeatedly (a fixed chunk of work, synchronised, returning the units
done), then ``teardown()``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from bench.errors import UsageError


class Workload(ABC):
    """Base class for workloads.

    Class attributes:
        name: registry name, e.g. ``"sha256d"``.
        unit: the unit one step counts, e.g. ``"hash"`` or ``"token"``.
        devices: device kinds supported (``"cpu"``, ``"cuda"``).
        presets: parameter sets by name; ``ci`` (seconds on 2 CPU cores) and
            ``full`` (qualification size) at least.
        description: one line for ``sitebench list``.
    """

    name: ClassVar[str]
    unit: ClassVar[str]
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {"ci": {}, "full": {}}
    description: ClassVar[str] = ""
    #: Run by plain ``sitebench run`` (the built-in suite).
    default_suite: ClassVar[bool] = False

    def params_for(self, preset: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Parameters of ``preset`` with ``overrides`` applied (unknown keys refused)."""

        if preset not in self.presets:
            raise UsageError(
                f"workload {self.name!r} has no preset {preset!r} (has: {', '.join(self.presets)})"
            )
        params = dict(self.presets[preset])
        for key, value in (overrides or {}).items():
            if key not in params:
                raise UsageError(
                    f"workload {self.name!r} has no parameter {key!r} (has: {', '.join(params)})"
                )
            params[key] = coerce(value, params[key])
        return params

    def preflight(self, device: str, params: Mapping[str, Any]) -> None:
        """Refuse, before anything is allocated, parameters that cannot run on ``device``.

        Raises:
            UsageError: naming what is wrong (e.g. the bytes a model needs). The
                default accepts everything.
        """

    @abstractmethod
    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        """Allocate inputs and compile kernels for ``device`` (e.g. ``"cpu"``, ``"cuda:0"``)."""

    @abstractmethod
    def verify(self) -> None:
        """Check the workload's own output against an independent reference.

        Raises:
            VerificationError: when the output is wrong.
        """

    @abstractmethod
    def step(self) -> int:
        """Do one fixed chunk of work, synchronously; return the units done."""

    def ceiling(self, device: str) -> float | None:
        """Physical upper bound in units/s on ``device``, or None when unknown."""
        return None

    def metrics(self) -> dict[str, Any]:
        """Extra workload-specific figures gathered over the measured window."""
        return {}

    def reset_metrics(self) -> None:
        """Forget anything gathered so far; called at the start of the measured window."""

    def teardown(self) -> None:
        """Release what ``setup`` allocated."""


def coerce(value: Any, like: Any) -> Any:
    """Convert a command-line string to the type of the preset's value.

    Raises:
        ValueError: when the string does not read as that type.
    """
    if not isinstance(value, str) or like is None or isinstance(like, str):
        return value
    if isinstance(like, bool):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{value!r} is not a boolean")
    if isinstance(like, int):
        return int(float(value)) if "e" in value.lower() else int(value, 0)
    if isinstance(like, float):
        return float(value)
    if isinstance(like, (list, tuple)):
        return [coerce(v, like[0] if like else "") for v in value.split(",") if v]
    return value


def device_kind(device: str) -> str:
    """``"cuda:3"`` -> ``"cuda"``; ``"cpu"`` -> ``"cpu"``."""
    return device.split(":", 1)[0]


def synchronize(device: str) -> None:
    """Wait for all queued work on ``device`` (no-op on CPU)."""
    if device_kind(device) == "cuda":
        import torch

        torch.cuda.synchronize(device)
