"""A stand-in for ``pynvml`` answering like an NVIDIA H100 80GB HBM3 does (values recorded from nvidia-smi
and NVML on such a board under load): the energy counter in mJ since driver load, instant/average power
field values in mW, SM 1980 MHz / memory 2619 MHz, 61 C, and the software power cap active.

The memory temperature (70 C) and the temperature thresholds (shutdown 92, slowdown 89, GPU max operating
87, memory max operating 95 C) are the fake's own, H100-like, not a recording. A test changes a board's
``temperature_c``, ``memory_c`` and ``reasons`` while a run goes on."""

from __future__ import annotations

import time
import types
from typing import Any

H100 = "NVIDIA H100 80GB HBM3"
NVML_FI_DEV_POWER_AVERAGE = 185
NVML_FI_DEV_POWER_INSTANT = 186
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_TEMPERATURE_GPU = 0
NVML_FI_DEV_MEMORY_TEMP = 82
NVML_TEMPERATURE_THRESHOLD_SHUTDOWN = 0
NVML_TEMPERATURE_THRESHOLD_SLOWDOWN = 1
NVML_TEMPERATURE_THRESHOLD_MEM_MAX = 2
NVML_TEMPERATURE_THRESHOLD_GPU_MAX = 3
HW_THERMAL_SLOWDOWN = 0x40
SW_POWER_CAP = 0x4


class NVMLError(Exception):
    """Base of the fake's errors, like pynvml.NVMLError."""


class NVMLError_LibraryNotFound(NVMLError):
    pass


class NVMLError_DriverNotLoaded(NVMLError):
    pass


class NVMLError_NotSupported(NVMLError):
    pass


class NVMLError_GpuIsLost(NVMLError):
    pass


class Gpu:
    """One recorded-looking board: the counter advances at ``watts`` in real time."""

    def __init__(self, name: str = H100, watts: float = 652.13, start_mj: int = 183_456_789_012,
                 energy: bool = True, instant: bool = True, average: bool = True) -> None:
        self.name, self.watts, self.start_mj = name, watts, start_mj
        self.energy, self.instant, self.average = energy, instant, average
        self.t0 = time.monotonic()
        self.lost = False
        self.reasons = SW_POWER_CAP
        self.temperature_c = 61
        self.memory_c: int | None = 70
        self.thresholds = {NVML_TEMPERATURE_THRESHOLD_SHUTDOWN: 92, NVML_TEMPERATURE_THRESHOLD_SLOWDOWN: 89,
                           NVML_TEMPERATURE_THRESHOLD_GPU_MAX: 87, NVML_TEMPERATURE_THRESHOLD_MEM_MAX: 95}
        self.shift_mj = 0
        self.uuid = f"GPU-{id(self):08x}-0000-0000-0000-000000000000"

    def energy_mj(self) -> int:
        return self.start_mj + int(self.watts * (time.monotonic() - self.t0) * 1000) - self.shift_mj


def make(gpus: list[Gpu] | None = None, init_error: type[Exception] | None = None) -> types.ModuleType:
    """A module object with the pynvml functions the nvml meter calls."""
    gpus = [Gpu()] if gpus is None else gpus
    nv = types.ModuleType("pynvml")
    state: dict[str, Any] = {"refs": 0}
    for name, value in globals().items():
        if name.startswith(("NVML", "NVMLError")):
            setattr(nv, name, value)

    def check(h: Gpu) -> Gpu:
        if h.lost:
            raise NVMLError_GpuIsLost("GPU is lost")
        return h

    def init() -> None:
        if init_error:
            raise init_error("NVML Shared Library Not Found" if init_error is NVMLError_LibraryNotFound
                             else "Driver Not Loaded")
        state["refs"] += 1

    def shutdown() -> None:
        state["refs"] -= 1

    def energy(h: Gpu) -> int:
        if not check(h).energy:
            raise NVMLError_NotSupported("Not Supported")
        return h.energy_mj()

    def field_values(h: Gpu, ids: list[int]) -> list[Any]:
        check(h)
        out = []
        for fid in ids:
            if fid == NVML_FI_DEV_MEMORY_TEMP:
                known = h.memory_c is not None
                out.append(types.SimpleNamespace(fieldId=fid, nvmlReturn=0 if known else 3,
                                                 value=types.SimpleNamespace(uiVal=h.memory_c or 0)))
                continue
            ok = (fid == NVML_FI_DEV_POWER_INSTANT and h.instant) or (fid == NVML_FI_DEV_POWER_AVERAGE and h.average)
            mw = int(h.watts * 1000) + (0 if fid == NVML_FI_DEV_POWER_INSTANT else -3231)
            out.append(types.SimpleNamespace(fieldId=fid, nvmlReturn=0 if ok else 3,
                                             value=types.SimpleNamespace(uiVal=mw if ok else 0)))
        return out

    nv.nvmlInit = init
    nv.nvmlShutdown = shutdown
    nv.nvmlDeviceGetCount = lambda: len(gpus)
    nv.nvmlDeviceGetHandleByIndex = lambda i: gpus[i]
    nv.nvmlDeviceGetName = lambda h: h.name
    nv.nvmlDeviceGetUUID = lambda h: h.uuid
    nv.nvmlDeviceGetTotalEnergyConsumption = energy
    nv.nvmlDeviceGetFieldValues = field_values
    nv.nvmlDeviceGetPowerUsage = lambda h: int(check(h).watts * 1000) - 10_870  # 1 s average, mW
    nv.nvmlDeviceGetClockInfo = lambda h, c: {NVML_CLOCK_SM: 1980, NVML_CLOCK_MEM: 2619}[c]
    nv.nvmlDeviceGetTemperature = lambda h, s: check(h).temperature_c

    def threshold(h: Gpu, kind: int) -> int:
        if kind not in check(h).thresholds:
            raise NVMLError_NotSupported("Not Supported")
        return h.thresholds[kind]

    nv.nvmlDeviceGetTemperatureThreshold = threshold
    nv.nvmlDeviceGetCurrentClocksEventReasons = lambda h: check(h).reasons
    nv.refs = lambda: state["refs"]
    return nv
