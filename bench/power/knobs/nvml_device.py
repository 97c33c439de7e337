"""The GPUs a knob changes, found through NVML (``pynvml`` from nvidia-ml-py, imported when used).

A GPU is named ``gpu:N`` as the nvml meter names it: N is the CUDA ordinal where this process
sees CUDA, else the NVML index. Each knob's :meth:`~bench.power.knobs.knob.Knob.spec` also carries
the GPU's UUID, so ``recover`` finds the same board again whatever ``CUDA_VISIBLE_DEVICES`` it
runs under. NVML stays initialised while a knob is open (one reference per opening), which also
keeps the driver loaded, so a limit set is not lost to the driver unloading mid-run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from bench.power.knobs.knob import KnobFailed, KnobRefused
from bench.power.meters.nvml import cuda_ordinals

#: What NVML answers when a setter lacks root or CAP_SYS_ADMIN (nvml.h).
NVML_ERROR_NO_PERMISSION = 4


@dataclass(frozen=True)
class Gpu:
    """One NVIDIA GPU: the module, its handle, its ``gpu:N`` number, UUID and name."""

    nv: ModuleType
    handle: Any
    n: int
    uuid: str
    name: str

    @property
    def target(self) -> str:
        """``gpu:N``."""
        return f"gpu:{self.n}"

    def call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(handle, *args)``; an NVML error becomes :class:`KnobFailed` naming the GPU and the call."""
        try:
            return fn(self.handle, *args)
        except self.nv.NVMLError as exc:
            hint = (" (needs root or CAP_SYS_ADMIN)"
                    if getattr(exc, "value", None) == NVML_ERROR_NO_PERMISSION else "")
            raise KnobFailed(f"{self.target} ({self.name}): {what}: NVML said {exc}{hint}"[:500]) from None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def load(kind: str, error: type[Exception] = KnobRefused) -> ModuleType:
    """pynvml, initialised (one reference, kept while the knob is open).

    Raises:
        ``error`` (KnobRefused when opening for a run, KnobFailed for recover): no pynvml, no driver.
    """
    try:
        import pynvml
    except ImportError:
        raise error(f"{kind}: pynvml (nvidia-ml-py) not installed") from None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        raise error(f"{kind}: no NVIDIA driver here (NVML: {exc})") from None
    return pynvml


def gpus(kind: str, device: str) -> list[Gpu]:
    """The GPUs a run on ``device`` uses: ``cuda:N`` is GPU N alone, ``cuda`` every GPU this process sees
    (as the nvml meter measures them).

    Raises:
        KnobRefused: a device that is no GPU, no pynvml or driver, no such GPU.
    """
    base, _, index = device.partition(":")
    if base != "cuda" or (index and not index.isdigit()):
        raise KnobRefused(f"{kind} changes an NVIDIA GPU: the run's device must be cuda or cuda:N, not {device!r}")
    nv = load(kind)
    try:
        count = nv.nvmlDeviceGetCount()
        by_uuid = {}
        for i in range(count):
            handle = nv.nvmlDeviceGetHandleByIndex(i)
            by_uuid[_text(nv.nvmlDeviceGetUUID(handle))] = (i, handle)
        ordinals = cuda_ordinals()
        numbered = ({uuid: ordinals[uuid] for uuid in by_uuid if uuid in ordinals} if ordinals
                    else {uuid: i for uuid, (i, _) in by_uuid.items()})
        chosen = [(n, uuid) for uuid, n in sorted(numbered.items(), key=lambda kv: kv[1])
                  if not index or n == int(index)]
        if not chosen:
            raise KnobRefused(f"{kind}: no GPU {device} here ({len(numbered)} visible to this process)")
        return [Gpu(nv, by_uuid[uuid][1], n, uuid, _text(nv.nvmlDeviceGetName(by_uuid[uuid][1])))
                for n, uuid in chosen]
    except nv.NVMLError as exc:
        raise KnobRefused(f"{kind}: NVML: {exc}") from None


def from_spec(spec: dict[str, Any]) -> Gpu:
    """The GPU a journal's knob line names: by its UUID, else by the NVML index in ``gpu:N``.

    Raises:
        KnobFailed: no pynvml or driver, or no such GPU (named).
    """
    kind, target, uuid = str(spec.get("kind"))[:40], str(spec.get("target"))[:40], spec.get("uuid")
    nv = load(kind, KnobFailed)
    try:
        if isinstance(uuid, str) and uuid:
            handle = nv.nvmlDeviceGetHandleByUUID(uuid)
        else:
            base, _, index = target.partition(":")
            if base != "gpu" or not index.isdigit():
                raise KnobFailed(f"{kind}: {target!r} names no GPU")
            handle = nv.nvmlDeviceGetHandleByIndex(int(index))
        found_uuid = _text(nv.nvmlDeviceGetUUID(handle))
        name = _text(nv.nvmlDeviceGetName(handle))
    except nv.NVMLError as exc:
        raise KnobFailed(f"{kind} on {target}: GPU {uuid or target} not reachable (NVML: {exc})") from None
    index = target.partition(":")[2]
    return Gpu(nv, handle, int(index) if index.isdigit() else 0, found_uuid, name)
