"""A GPU's power limit through NVML (kind ``gpu.power_limit``, W).

Read with ``nvmlDeviceGetPowerManagementLimit``, its range from
``nvmlDeviceGetPowerManagementLimitConstraints``, its stock value from
``nvmlDeviceGetPowerManagementDefaultLimit`` (``max`` in a sweep means this default, as Zeus
restores it), set with ``nvmlDeviceSetPowerManagementLimit`` (all in mW). Zeus steps the same
call through the same constraints; it learns of a missing permission only when a set fails with
``NVML_ERROR_NO_PERMISSION``, whereas this knob says so before anything changes
(:mod:`bench.power.knobs.permission`). The limit settles within about a second of a change (the
board's power controller acts on its 100 ms-class loop); :attr:`settle_s` allows 3 s.
"""

from __future__ import annotations

from typing import Any

from bench.power.knobs import permission
from bench.power.knobs.knob import Allowed, Knob, KnobFailed, Value, register
from bench.power.knobs.nvml_device import Gpu, from_spec, gpus

KIND = "gpu.power_limit"


class NvmlPowerLimit(Knob):
    """One GPU's power management limit."""

    kind = KIND
    unit = "W"
    permission = "root or CAP_SYS_ADMIN"
    settle_s = 3.0

    def __init__(self, gpu: Gpu) -> None:
        super().__init__(gpu.target)
        self.gpu = gpu

    def _watts(self, what: str, fn: Any) -> float:
        return float(self.gpu.call(what, fn)) / 1000.0

    def read(self) -> float:
        """The management limit now (W)."""
        return self._watts("reading the power limit", self.gpu.nv.nvmlDeviceGetPowerManagementLimit)

    def allowed(self) -> Allowed:
        """The board's own constraints (W)."""
        low, high = self.gpu.call("reading the power limit's constraints",
                                  self.gpu.nv.nvmlDeviceGetPowerManagementLimitConstraints)
        return Allowed(low=float(low) / 1000.0, high=float(high) / 1000.0)

    def stock(self) -> float:
        """The board's default limit (W)."""
        return self._watts("reading the default power limit", self.gpu.nv.nvmlDeviceGetPowerManagementDefaultLimit)

    def missing_permission(self) -> str | None:
        """None with root or CAP_SYS_ADMIN."""
        return permission.lacking_admin()

    def set(self, value: Value) -> None:
        """Set the limit to ``value`` W (sent in whole mW)."""
        self.gpu.call(f"setting the power limit to {float(value):g} W", self.gpu.nv.nvmlDeviceSetPowerManagementLimit,
                      round(float(value) * 1000))

    def spec(self) -> dict[str, Any]:
        """``{"kind": "gpu.power_limit", "target": "gpu:N", "uuid": "GPU-..."}``."""
        return {"kind": KIND, "target": self.target, "uuid": self.gpu.uuid}

    def notes(self) -> list[str]:
        """What else bounds the board: the enforced limit where another (in-band, out-of-band) is lower."""
        enforced = getattr(self.gpu.nv, "nvmlDeviceGetEnforcedPowerLimit", None)
        if enforced is None:
            return []
        try:
            enforced_w, limit_w = self._watts("reading the enforced power limit", enforced), self.read()
        except KnobFailed:  # a note that cannot be read is left out
            return []
        if enforced_w < limit_w - 0.5:
            return [f"{self.label}: the enforced limit is {enforced_w:g} W, below the management limit "
                    f"{limit_w:g} W (another limit applies)"]
        return []


def open_device(device: str) -> list[Knob]:
    """One knob per GPU a run on ``device`` uses (see :func:`bench.power.knobs.nvml_device.gpus`)."""
    return [NvmlPowerLimit(gpu) for gpu in gpus(KIND, device)]


def reopen(spec: dict[str, Any]) -> Knob:
    """The knob a journal line names (recover)."""
    return NvmlPowerLimit(from_spec(spec))


register(KIND, reopen)
