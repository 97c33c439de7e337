"""A GPU's locked SM (graphics) clock through NVML (kind ``gpu.sm_clocks``, MHz, or ``unlocked``).

A value locks the clock at that frequency, as both bounds of ``nvmlDeviceSetGpuLockedClocks``
(``nvidia-smi -lgc F,F``); ``unlocked`` is the stock state, restored with
``nvmlDeviceResetGpuLockedClocks``. The range is that of ``nvmlDeviceGetSupportedGraphicsClocks``
at the board's highest memory clock, else 0 up to ``nvmlDeviceGetMaxClockInfo`` (the driver
takes the nearest clock it supports).

What :meth:`NvmlSmClocks.read` returns: NVML has no call that reads a locked range back, so the
knob reports the lock this process applied through NVML (shared by every knob on the same GPU in
the process), and ``unlocked`` otherwise. A lock set before sitebench started (``nvidia-smi -lgc``)
cannot be seen: the original is then journaled as ``unlocked`` and restoring resets the clocks,
removing that lock. The clock the GPU actually runs at is :meth:`NvmlSmClocks.sm_clock_mhz`
(``nvmlDeviceGetClockInfo``), a measurement to record beside the setting, not a read-back of it.
"""

from __future__ import annotations

from typing import Any

from bench.power.knobs import permission
from bench.power.knobs.knob import Allowed, Knob, KnobFailed, Value, register
from bench.power.knobs.nvml_device import Gpu, from_spec, gpus

KIND = "gpu.sm_clocks"
UNLOCKED = "unlocked"

#: GPU UUID -> the clock this process locked it at.
_LOCKED: dict[str, float] = {}


class NvmlSmClocks(Knob):
    """One GPU's locked SM clock."""

    kind = KIND
    unit = "MHz"
    permission = "root or CAP_SYS_ADMIN"
    settle_s = 3.0

    def __init__(self, gpu: Gpu) -> None:
        super().__init__(gpu.target)
        self.gpu = gpu

    def read(self) -> Value:
        """The lock this process applied (MHz), else ``unlocked`` (see the module's note)."""
        return _LOCKED.get(self.gpu.uuid, UNLOCKED)

    def allowed(self) -> Allowed:
        """The supported graphics clocks' span (MHz), or ``unlocked``."""
        nv = self.gpu.nv
        try:
            memory = max(self.gpu.call("reading the supported memory clocks", nv.nvmlDeviceGetSupportedMemoryClocks))
            clocks = self.gpu.call("reading the supported graphics clocks", nv.nvmlDeviceGetSupportedGraphicsClocks,
                                   memory)
        except (KnobFailed, ValueError):
            clocks = []
        if clocks:
            return Allowed(low=float(min(clocks)), high=float(max(clocks)), modes=(UNLOCKED,))
        top = self.gpu.call("reading the maximum SM clock", nv.nvmlDeviceGetMaxClockInfo, nv.NVML_CLOCK_SM)
        return Allowed(low=0.0, high=float(top), modes=(UNLOCKED,))

    def stock(self) -> Value:
        """``unlocked``."""
        return UNLOCKED

    def missing_permission(self) -> str | None:
        """None with root or CAP_SYS_ADMIN."""
        return permission.lacking_admin()

    def set(self, value: Value) -> None:
        """Lock the SM clock at ``value`` MHz, or reset it for ``unlocked``."""
        nv = self.gpu.nv
        if value == UNLOCKED:
            self.gpu.call("resetting the locked clocks", nv.nvmlDeviceResetGpuLockedClocks)
            _LOCKED.pop(self.gpu.uuid, None)
            return
        mhz = round(float(value))
        self.gpu.call(f"locking the SM clock at {mhz} MHz", nv.nvmlDeviceSetGpuLockedClocks, mhz, mhz)
        _LOCKED[self.gpu.uuid] = float(mhz)

    def spec(self) -> dict[str, Any]:
        """``{"kind": "gpu.sm_clocks", "target": "gpu:N", "uuid": "GPU-..."}``."""
        return {"kind": KIND, "target": self.target, "uuid": self.gpu.uuid}

    def sm_clock_mhz(self) -> float | None:
        """The SM clock the GPU runs at now (a measurement), None where NVML cannot say."""
        try:
            return float(self.gpu.call("reading the SM clock", self.gpu.nv.nvmlDeviceGetClockInfo,
                                       self.gpu.nv.NVML_CLOCK_SM))
        except KnobFailed:
            return None

    def notes(self) -> list[str]:
        """How the setting was read back."""
        return [f"{self.label}: NVML cannot read a clock lock back; the value recorded is the one this process "
                "applied, and a lock set before the run is not seen (restoring unlocks)"]


def open_device(device: str) -> list[Knob]:
    """One knob per GPU a run on ``device`` uses."""
    return [NvmlSmClocks(gpu) for gpu in gpus(KIND, device)]


def reopen(spec: dict[str, Any]) -> Knob:
    """The knob a journal line names (recover)."""
    return NvmlSmClocks(from_spec(spec))


register(KIND, reopen)
