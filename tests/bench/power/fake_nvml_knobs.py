"""A stand-in for ``pynvml`` with the knobs: the H100 of :mod:`tests.bench.power.fake_pynvml` whose draw
follows the power limit and the SM clock lock it was given.

The limit's answers are an H100 SXM5 80GB's as nvidia-smi reports them (min 200 W, max 700 W, default
700 W). The supported clocks (memory 2619 MHz; graphics 1980 down to 345 MHz in 15 MHz steps) and the
response are this fake's own model (MODELLED, not a recording): the workload wants ``want_w`` at 1980 MHz;
a clock lock scales that linearly with the clock, and the limit caps it, settling at once:
``power = min(want_w * clock / 1980, limit)``. The energy counter integrates the draw piece by piece,
each change of limit or lock starting a new piece. Setters raise ``NVMLError_NoPermission`` while
the module's ``admin`` is False, and ``NVMLError_InvalidArgument`` outside the constraints, as NVML
does; every call that changes the board is appended to ``nv.changes``.
"""

from __future__ import annotations

import time
import types
from typing import Any

from tests.bench.power import fake_pynvml
from tests.bench.power.fake_pynvml import H100, NVML_CLOCK_SM, Gpu, NVMLError

NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_FOUND = 6
MAX_SM_MHZ = 1980
MEMORY_MHZ = 2619
GRAPHICS_MHZ = list(range(MAX_SM_MHZ, 344, -15))


class NVMLError_NoPermission(NVMLError):
    value = NVML_ERROR_NO_PERMISSION

    def __str__(self) -> str:
        return "Insufficient Permissions"


class NVMLError_InvalidArgument(NVMLError):
    value = NVML_ERROR_INVALID_ARGUMENT

    def __str__(self) -> str:
        return "Invalid Argument"


class NVMLError_NotFound(NVMLError):
    value = NVML_ERROR_NOT_FOUND

    def __str__(self) -> str:
        return "Not Found"


class LimitedGpu(Gpu):
    """An H100 whose draw is ``min(want_w * clock / 1980, limit)``; ``watts`` is that draw."""

    def __init__(self, want_w: float = 620.0, limit_w: float = 700.0, min_w: float = 200.0, max_w: float = 700.0,
                 default_w: float = 700.0, name: str = H100, limits: bool = True, **kw: Any) -> None:
        self.want_w = want_w
        self.limit_mw, self.min_mw, self.max_mw, self.default_mw = (round(w * 1000) for w in
                                                                     (limit_w, min_w, max_w, default_w))
        self.limits = limits
        self.locked: tuple[int, int] | None = None
        self._acc_mj = 0.0
        self._since = time.monotonic()
        super().__init__(name=name, watts=want_w, **kw)

    @property  # type: ignore[override]
    def watts(self) -> float:
        clock = self.locked[1] if self.locked else MAX_SM_MHZ
        return min(self.want_w * clock / MAX_SM_MHZ, self.limit_mw / 1000.0)

    @watts.setter
    def watts(self, value: float) -> None:
        self.change(lambda: setattr(self, "want_w", value))

    def change(self, apply: Any) -> None:
        """Close the energy piece at the old draw, then apply the change."""
        now = time.monotonic()
        if hasattr(self, "_since"):
            self._acc_mj += self.watts * (now - self._since) * 1000.0
        self._since = now
        apply()

    def energy_mj(self) -> int:
        now = time.monotonic()
        return self.start_mj + int(self._acc_mj + self.watts * (now - self._since) * 1000.0) - self.shift_mj


def make(gpus: list[Gpu] | None = None, admin: bool = True) -> types.ModuleType:
    """The fake pynvml of :func:`tests.bench.power.fake_pynvml.make` plus the knobs' calls."""
    gpus = [LimitedGpu()] if gpus is None else gpus
    nv = fake_pynvml.make(gpus)
    nv.admin = admin
    nv.changes = []
    for name, value in globals().items():
        if name.startswith(("NVML_ERROR", "NVMLError_")):
            setattr(nv, name, value)

    def limited(h: Any) -> LimitedGpu:
        if h.lost:
            raise fake_pynvml.NVMLError_GpuIsLost("GPU is lost")
        if not isinstance(h, LimitedGpu) or not h.limits:
            raise fake_pynvml.NVMLError_NotSupported("Not Supported")
        return h

    def privileged(h: Any, what: str) -> LimitedGpu:
        g = limited(h)
        if not nv.admin:
            raise NVMLError_NoPermission(NVML_ERROR_NO_PERMISSION)
        nv.changes.append((gpus.index(g), what))
        return g

    def set_limit(h: Any, mw: int) -> None:
        g = privileged(h, f"limit {mw}")
        if not g.min_mw <= mw <= g.max_mw:
            raise NVMLError_InvalidArgument(NVML_ERROR_INVALID_ARGUMENT)
        g.change(lambda: setattr(g, "limit_mw", mw))

    def lock(h: Any, low: int, high: int) -> None:
        g = privileged(h, f"lock {low},{high}")
        if low > high or high < GRAPHICS_MHZ[-1] or low > MAX_SM_MHZ:
            raise NVMLError_InvalidArgument(NVML_ERROR_INVALID_ARGUMENT)
        snapped = min(GRAPHICS_MHZ, key=lambda f: abs(f - high))
        g.change(lambda: setattr(g, "locked", (min(low, snapped), snapped)))

    def reset(h: Any) -> None:
        g = privileged(h, "reset clocks")
        g.change(lambda: setattr(g, "locked", None))

    def by_uuid(uuid: Any) -> Gpu:
        text = uuid.decode() if isinstance(uuid, bytes) else uuid
        for g in gpus:
            if g.uuid == text:
                return g
        raise NVMLError_NotFound(NVML_ERROR_NOT_FOUND)

    def clock(h: Any, which: int) -> int:
        if which == NVML_CLOCK_SM and isinstance(h, LimitedGpu) and h.locked:
            return h.locked[1]
        return {NVML_CLOCK_SM: MAX_SM_MHZ, fake_pynvml.NVML_CLOCK_MEM: MEMORY_MHZ}[which]

    nv.nvmlDeviceGetHandleByUUID = by_uuid
    nv.nvmlDeviceGetPowerManagementLimit = lambda h: limited(h).limit_mw
    nv.nvmlDeviceGetEnforcedPowerLimit = lambda h: limited(h).limit_mw
    nv.nvmlDeviceGetPowerManagementLimitConstraints = lambda h: (limited(h).min_mw, limited(h).max_mw)
    nv.nvmlDeviceGetPowerManagementDefaultLimit = lambda h: limited(h).default_mw
    nv.nvmlDeviceSetPowerManagementLimit = set_limit
    nv.nvmlDeviceGetSupportedMemoryClocks = lambda h: [limited(h) and MEMORY_MHZ]
    nv.nvmlDeviceGetSupportedGraphicsClocks = lambda h, mem: list(GRAPHICS_MHZ) if limited(h) else []
    nv.nvmlDeviceGetMaxClockInfo = lambda h, which: MAX_SM_MHZ
    nv.nvmlDeviceSetGpuLockedClocks = lock
    nv.nvmlDeviceResetGpuLockedClocks = reset
    nv.nvmlDeviceGetClockInfo = clock
    return nv
