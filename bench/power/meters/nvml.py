"""NVIDIA GPUs through NVML (``pynvml`` from nvidia-ml-py), one meter per GPU.

Energy comes from the cumulative counter ``nvmlDeviceGetTotalEnergyConsumption``
(mJ since the driver loaded; Volta and newer), differenced over the window.
The power trace comes from the instant power field value
(``NVML_FI_DEV_POWER_INSTANT``), else the average one
(``NVML_FI_DEV_POWER_AVERAGE``), else - and ``method`` says so - the 1-second
averaged ``nvmlDeviceGetPowerUsage``, never presented as instantaneous. Each
reading also records SM and memory clocks, GPU temperature and the active
clock event (throttle) reasons, decoded to names (see
:mod:`bench.power.window.telemetry`), and the memory temperature (field
``NVML_FI_DEV_MEMORY_TEMP``) where the part reports one; the core and memory
temperatures become channels of the run's thermal block, with the slowdown,
shutdown and maximum operating temperatures the board reports
(``nvmlDeviceGetTemperatureThreshold``). Each meter declares the most it can
read: 2 x the top of the board's power-limit range, else 2 x the catalog's
board power for its name (:mod:`bench.power.plausible`).
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from bench.errors import MeterReadError, MeterUnavailable
from bench.hardware import gpu_tdp_w
from bench.power.channels import MeterChannel
from bench.power.meter import CounterDiscontinuity, Meter, Reading
from bench.power.plausible import declared
from bench.power.spec import MeterSpec

#: Clock event (throttle) reason bits, as in nvml.h, and the names recorded.
REASON_BITS = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}
ACCURACY_NOTE = ("NVIDIA states board power within +/-5% (nvmlDeviceGetPowerUsage) and +/-5 W (nvidia-smi "
                 "power.draw) on recent data-centre GPUs; the energy counter reads the same sensor. GPU board only")
#: The energy counter updates every 10-100 ms depending on the part; the slow end is assumed.
UPDATE_PERIOD_S = 0.1
#: Parts whose energy counter covers the whole module (Grace CPU, Hopper GPU and their memory) while the
#: power field values cover the GPU alone: the meter is scoped ``module:N`` and its trace comes from the
#: counter, so the energy and the trace describe the same thing.
MODULE_COUNTER = ("GH200",)
#: nvml.h's field id of the memory (HBM) temperature in C, where pynvml lacks the name.
FI_DEV_MEMORY_TEMP = 82
#: nvml.h's temperature thresholds, recorded beside the channel they bound (name: enum value).
CORE_THRESHOLDS = {"shutdown": ("NVML_TEMPERATURE_THRESHOLD_SHUTDOWN", 0),
                   "slowdown": ("NVML_TEMPERATURE_THRESHOLD_SLOWDOWN", 1),
                   "gpu_max": ("NVML_TEMPERATURE_THRESHOLD_GPU_MAX", 3)}
MEMORY_THRESHOLDS = {"mem_max": ("NVML_TEMPERATURE_THRESHOLD_MEM_MAX", 2)}
MODULE_NOTE = ("GH200 superchip: the energy counter covers the whole module (Grace CPU, Hopper GPU, LPDDR5X "
               "and HBM), so the meter is scoped module:N; the GPU-only power field is not used")


def decode_reasons(mask: int) -> list[str]:
    """Names of the reason bits set in ``mask`` (unknown bits as ``bit_0x...``)."""
    names = [name for bit, name in REASON_BITS.items() if mask & bit]
    unknown = mask & ~sum(REASON_BITS)
    names += [f"bit_{1 << i:#x}" for i in range(64) if unknown >> i & 1]
    return names


def _import() -> ModuleType:
    try:
        import pynvml
    except ImportError:
        raise MeterUnavailable("nvml: pynvml (nvidia-ml-py) not installed") from None
    return pynvml


class NvmlMeter(Meter):
    """One GPU: energy counter differenced, instant/average power for the trace, telemetry per reading."""

    kind = "nvml"

    def __init__(self, nv: ModuleType, index: int, handle: Any) -> None:
        """``index`` is the N of ``gpu:N`` (the CUDA ordinal where CUDA sees the GPU)."""
        self.nv, self.index, self.handle = nv, index, handle
        self.gpu_name = _text(nv.nvmlDeviceGetName(handle))
        self._base_mj = nv.nvmlDeviceGetTotalEnergyConsumption(handle)
        self._last_mj = self._base_mj
        self.module = any(part in self.gpu_name for part in MODULE_COUNTER)
        if self.module:
            self.power_field, source = None, "the energy counter's differences (module scope)"
        else:
            self.power_field, source = self._choose_power_source()
        self._reasons_fn = getattr(nv, "nvmlDeviceGetCurrentClocksEventReasons", None) or getattr(
            nv, "nvmlDeviceGetCurrentClocksThrottleReasons", None)
        scope = f"module:{index}" if self.module else f"gpu:{index}"
        try:
            uuid: str | None = _text(nv.nvmlDeviceGetUUID(handle))
        except nv.NVMLError:
            uuid = None
        super().__init__(
            f"nvml:{scope}",
            scope,
            accuracy=0.05,
            accuracy_w=5.0,
            accuracy_note=f"{self.gpu_name}: {MODULE_NOTE if self.module else ACCURACY_NOTE}",
            update_period_s=UPDATE_PERIOD_S,
            method=f"counter (nvmlDeviceGetTotalEnergyConsumption); trace: {source}",
        )
        self.device_uuid = uuid
        self.max_w = declared(self._rated_w())
        self.memory_field = getattr(nv, "NVML_FI_DEV_MEMORY_TEMP", FI_DEV_MEMORY_TEMP)
        #: the temperatures each reading carries, as channels of the run's thermal block
        self.thermal_channels = [
            MeterChannel("temperature_c", "core_c", "core", "°C", "nvmlDeviceGetTemperature(NVML_TEMPERATURE_GPU)",
                         self._thresholds(CORE_THRESHOLDS)),
            MeterChannel("memory_temperature_c", "memory_c", "memory", "°C",
                         "nvmlDeviceGetFieldValues(NVML_FI_DEV_MEMORY_TEMP)", self._thresholds(MEMORY_THRESHOLDS)),
        ]

    def _thresholds(self, wanted: dict[str, tuple[str, int]]) -> dict[str, float]:
        """The temperature thresholds the board reports (``nvmlDeviceGetTemperatureThreshold``), by name;
        a threshold the part does not report is left out."""
        out: dict[str, float] = {}
        get = getattr(self.nv, "nvmlDeviceGetTemperatureThreshold", None)
        for name, (const, value) in wanted.items():
            try:
                found = get(self.handle, getattr(self.nv, const, value)) if get is not None else None
            except self.nv.NVMLError:
                continue
            if isinstance(found, (int, float)) and 0 < found < 250:
                out[name] = float(found)
        return out

    def _memory_c(self) -> float | None:
        try:
            (value,) = self.nv.nvmlDeviceGetFieldValues(self.handle, [self.memory_field])
        except self.nv.NVMLError:
            return None
        return float(value.value.uiVal) if value.nvmlReturn == 0 else None

    def _rated_w(self) -> float | None:
        """The most power the board may be set to draw: the top of its power-limit range, else the catalog's
        board power for its name (``bench/data/hardware.csv``), else None."""
        try:
            _, top_mw = self.nv.nvmlDeviceGetPowerManagementLimitConstraints(self.handle)
            if top_mw > 0:
                return float(top_mw) / 1000.0
        except (AttributeError, TypeError, ValueError, self.nv.NVMLError):
            pass
        return gpu_tdp_w(self.gpu_name)

    def _field_power_w(self, field: int) -> float | None:
        try:
            (value,) = self.nv.nvmlDeviceGetFieldValues(self.handle, [field])
        except self.nv.NVMLError:
            return None
        if value.nvmlReturn != 0:
            return None
        return value.value.uiVal / 1000.0

    def _choose_power_source(self) -> tuple[int | None, str]:
        for field, label in ((self.nv.NVML_FI_DEV_POWER_INSTANT, "NVML_FI_DEV_POWER_INSTANT field value"),
                             (self.nv.NVML_FI_DEV_POWER_AVERAGE, "NVML_FI_DEV_POWER_AVERAGE field value "
                                                                 "(instant power unsupported here)")):
            if self._field_power_w(field) is not None:
                return field, label
        return None, ("nvmlDeviceGetPowerUsage, a 1-second average: field values unsupported here, "
                      "so the trace is smoothed, not instantaneous")

    def _power_w(self) -> float:
        if self.power_field is not None:
            watts = self._field_power_w(self.power_field)
            if watts is None:
                raise MeterReadError(f"{self.name}: power field {self.power_field} stopped answering")
            return watts
        return self.nv.nvmlDeviceGetPowerUsage(self.handle) / 1000.0

    def _telemetry(self) -> dict[str, Any]:
        nv, h = self.nv, self.handle
        extra: dict[str, Any] = {}
        for key, fn in (("sm_clock_mhz", lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM)),
                        ("mem_clock_mhz", lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_MEM)),
                        ("temperature_c", lambda: nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU)),
                        ("memory_temperature_c", self._memory_c),
                        ("throttle_reasons", lambda: decode_reasons(self._reasons_fn(h)) if self._reasons_fn else None)):
            try:
                value = fn()
            except nv.NVMLError:
                continue  # telemetry that a part does not offer is left out, not zeroed
            if value is not None:
                extra[key] = value
        return extra

    def read(self) -> Reading:
        try:
            mj = self.nv.nvmlDeviceGetTotalEnergyConsumption(self.handle)
            t = time.monotonic()
            watts = None if self.module else self._power_w()
            gpu_only = self._field_power_w(self.nv.NVML_FI_DEV_POWER_INSTANT) if self.module else None
        except self.nv.NVMLError as exc:
            raise MeterReadError(f"{self.name}: {exc}") from exc
        if mj < self._last_mj:
            back = self._last_mj - mj
            self._base_mj -= back  # carry on from the new value; the window across it is refused
            self._last_mj = mj
            raise CounterDiscontinuity(f"{self.name}: energy counter went backwards by {back} mJ")
        self._last_mj = mj
        extra = self._telemetry()
        if gpu_only is not None:  # GH200: the GPU's own power, beside the module's counter, as telemetry
            extra["gpu_power_w"] = gpu_only
        return Reading(t=t, energy_j=(mj - self._base_mj) / 1000.0, power_w=watts, extra=extra)

    def close(self) -> None:
        try:
            self.nv.nvmlShutdown()
        except self.nv.NVMLError:
            pass


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def cuda_ordinals() -> dict[str, int]:
    """NVML UUID (``GPU-...``) -> torch CUDA ordinal of the GPUs this process sees; empty without CUDA."""
    try:
        import torch
    except ImportError:
        return {}
    if not torch.cuda.is_available():
        return {}
    out = {}
    for i in range(torch.cuda.device_count()):
        uuid = getattr(torch.cuda.get_device_properties(i), "uuid", None)
        if uuid is not None:
            text = str(uuid)
            out[text if text.startswith("GPU-") else f"GPU-{text}"] = i
    return out


def _numbering(nv: ModuleType, count: int) -> dict[int, int]:
    """NVML index -> the N of scope ``gpu:N``: the CUDA ordinal (as in ``cuda:N`` and the result's
    ``system.gpus``) where CUDA sees the GPU, the NVML index when this process has no CUDA.
    GPUs hidden from CUDA (``CUDA_VISIBLE_DEVICES``) are left out."""
    ordinals = cuda_ordinals()
    if not ordinals:
        return {i: i for i in range(count)}
    out = {}
    for i in range(count):
        uuid = _text(nv.nvmlDeviceGetUUID(nv.nvmlDeviceGetHandleByIndex(i)))
        if uuid in ordinals:
            out[i] = ordinals[uuid]
    return out


def _chosen(arg: str | None, numbering: dict[int, int]) -> dict[int, int]:
    if not arg:
        return numbering
    try:
        wanted = [int(x) for x in arg.split("+")]
    except ValueError:
        raise MeterUnavailable(f"nvml:{arg}: expected GPU indices such as 0 or 0+1") from None
    by_n = {n: i for i, n in numbering.items()}
    bad = [n for n in wanted if n not in by_n]
    if bad:
        raise MeterUnavailable(f"nvml:{arg}: no GPU {bad[0]} ({len(numbering)} visible)")
    return {by_n[n]: n for n in wanted}


def device_target(device: str) -> str | None:
    """For a run on ``cuda:N`` the default nvml meter is GPU N alone; None for other devices."""
    kind, _, index = device.partition(":")
    return index if kind == "cuda" and index.isdigit() else None


def open_spec(spec: MeterSpec) -> list[Meter]:
    """One meter per GPU (the target: CUDA ordinals joined with ``+``, default every visible GPU).

    Raises:
        MeterUnavailable: no pynvml, no NVIDIA driver, no GPUs, or no GPU with an energy counter.
    """
    nv = _import()
    try:
        nv.nvmlInit()
    except (nv.NVMLError_LibraryNotFound, nv.NVMLError_DriverNotLoaded) as exc:
        raise MeterUnavailable(f"nvml: no NVIDIA driver ({exc})") from None
    except nv.NVMLError as exc:
        raise MeterUnavailable(f"nvml: initialisation failed ({exc})") from None
    try:
        count = nv.nvmlDeviceGetCount()
        if count == 0:
            raise MeterUnavailable("nvml: no GPUs")
        numbering = _numbering(nv, count)
        if not numbering:
            raise MeterUnavailable("nvml: the devices CUDA sees match no NVML GPU by UUID (MIG instances? they have "
                                   "no energy counter of their own): no GPU meter")
        meters: list[Meter] = []
        refused: list[str] = []
        for i, n in _chosen(spec.target, numbering).items():
            handle = nv.nvmlDeviceGetHandleByIndex(i)
            try:
                nv.nvmlInit()  # one reference per meter; each meter's close() drops its own
                meters.append(NvmlMeter(nv, n, handle))
            except nv.NVMLError_NotSupported:
                nv.nvmlShutdown()
                refused.append(f"GPU {i} ({_text(nv.nvmlDeviceGetName(handle))})")
    except nv.NVMLError as exc:
        raise MeterUnavailable(f"nvml: {exc}") from None
    finally:
        nv.nvmlShutdown()
    if not meters:
        raise MeterUnavailable(f"nvml: energy counter unsupported (pre-Volta, or a vGPU) on {', '.join(refused)}")
    return meters
