"""The GPU power limit knob against a fake NVML whose H100s draw what their limit allows."""

from __future__ import annotations

import sys
import time
from types import ModuleType
from typing import Any

import pytest

from bench.power.discovery import open_spec
from bench.power.knobs import KnobFailed, KnobGuard, KnobRefused, check_before_change, open_knobs, reopen
from bench.power.knobs.nvml_power import NvmlPowerLimit
from tests.bench.power import fake_nvml_knobs
from tests.bench.power.fake_pynvml import NVMLError_DriverNotLoaded


def _gpu(nv: ModuleType, i: int) -> Any:
    return nv.nvmlDeviceGetHandleByIndex(i)


def test_reads_range_stock_and_permission(nv: ModuleType, admin: None) -> None:
    knobs = open_knobs("gpu.power_limit", "cuda")
    assert [k.label for k in knobs] == ["gpu.power_limit on gpu:0", "gpu.power_limit on gpu:1"]
    knob = knobs[0]
    assert isinstance(knob, NvmlPowerLimit)
    assert (knob.kind, knob.unit, knob.permission, knob.settle_s) == ("gpu.power_limit", "W", "root or CAP_SYS_ADMIN",
                                                                     3.0)
    assert knob.read() == 700.0 and knob.stock() == 700.0
    allowed = knob.allowed()
    assert (allowed.low, allowed.high) == (200.0, 700.0) and allowed.describe("W") == "200-700 W"
    assert knob.missing_permission() is None
    assert knob.resolve("max") == 700.0 and knob.resolve("min") == 200.0 and knob.resolve("450") == 450.0
    assert knob.limit_w(450.0) == 450.0
    assert knob.spec() == {"kind": "gpu.power_limit", "target": "gpu:0", "uuid": _gpu(nv, 0).uuid}
    assert knob.notes() == []
    assert [k.target for k in open_knobs("gpu.power_limit", "cuda:1")] == ["gpu:1"]


def test_the_draw_follows_the_limit_set_and_restored(nv: ModuleType, admin: None) -> None:
    (knob,) = open_knobs("gpu.power_limit", "cuda:0")
    (meter,) = open_spec("nvml:0")
    gpu = _gpu(nv, 0)
    assert meter.read().power_w == pytest.approx(620.0), "the 700 W default does not bind a 620 W workload"
    journal: list[dict[str, Any]] = []
    with KnobGuard(journal.append) as guard:
        assert guard.apply(knob, 400.0) == 400.0
        assert gpu.limit_mw == 400_000 and meter.read().power_w == pytest.approx(400.0)
        first = meter.read()
        time.sleep(0.2)
        last = meter.read()
        assert (last.energy_j - first.energy_j) / (last.t - first.t) == pytest.approx(400.0, rel=0.05)
    assert gpu.limit_mw == 700_000 and meter.read().power_w == pytest.approx(620.0)
    assert [line["type"] for line in journal] == ["knob", "knob_set", "knob_restored"]
    assert journal[0]["original"] == 700.0 and journal[0]["unit"] == "W"
    assert journal[1] == {"type": "knob_set", "label": "gpu.power_limit on gpu:0", "value": 400.0, "read_back": 400.0}
    assert nv.changes == [(0, "limit 400000"), (0, "limit 700000")]
    meter.close()


@pytest.mark.parametrize("value", [150.0, 701.0])
def test_out_of_range_is_refused_before_anything_changes(nv: ModuleType, admin: None, value: float) -> None:
    (knob,) = open_knobs("gpu.power_limit", "cuda:0")
    with pytest.raises(KnobRefused, match=rf"gpu.power_limit on gpu:0: {value:g} W is outside the device's own "
                                          r"range \(200-700 W\)"):
        check_before_change([knob], [(knob, 400.0), (knob, value)])
    journal: list[dict[str, Any]] = []
    with pytest.raises(KnobRefused), KnobGuard(journal.append) as guard:
        guard.apply(knob, value)
    assert nv.changes == [] and journal == []


def test_no_permission_is_said_before_any_change(nv: ModuleType, not_admin: None) -> None:
    knobs = open_knobs("gpu.power_limit", "cuda")
    assert "not root and lacks CAP_SYS_ADMIN" in (knobs[0].missing_permission() or "")
    with pytest.raises(KnobRefused, match=r"^gpu.power_limit on gpu:0: this process \(uid \d+\) is not root and "
                                          r"lacks CAP_SYS_ADMIN \(changing it needs root or CAP_SYS_ADMIN\); "
                                          "nothing was changed$"):
        check_before_change(knobs, [(k, 400.0) for k in knobs])
    assert nv.changes == []


def test_nvml_refusing_a_set_fails_the_point_and_the_guard_still_restores(nv: ModuleType, admin: None) -> None:
    a, b = open_knobs("gpu.power_limit", "cuda")
    journal: list[dict[str, Any]] = []
    with pytest.raises(KnobFailed, match=r"gpu:1 \(NVIDIA H100 80GB HBM3\): setting the power limit to 300 W: NVML "
                                         r"said Insufficient Permissions \(needs root or CAP_SYS_ADMIN\)"):
        with KnobGuard(journal.append) as guard:
            guard.apply(a, 350.0)
            nv.admin = False  # the permission went away mid-sweep: NVML's own refusal
            guard.apply(b, 300.0)
    assert [(line["type"], line["label"][-5:]) for line in journal] == [
        ("knob", "gpu:0"), ("knob_set", "gpu:0"), ("knob", "gpu:1"),
        ("knob_restore_failed", "gpu:1"), ("knob_restore_failed", "gpu:0")]
    assert _gpu(nv, 1).limit_mw == 700_000, "the refused set changed nothing"
    nv.admin = True
    assert guard.failures and guard.restored == []


def test_reopen_finds_the_same_gpu_by_uuid_and_restores_it(nv: ModuleType, admin: None) -> None:
    (knob,) = open_knobs("gpu.power_limit", "cuda:1")
    knob.set(300.0)
    again = reopen(knob.spec())
    assert again.label == knob.label and again.read() == 300.0
    again.restore(700.0)
    assert _gpu(nv, 1).limit_mw == 700_000
    by_index = reopen({"kind": "gpu.power_limit", "target": "gpu:1"})
    assert by_index.read() == 700.0
    with pytest.raises(KnobFailed, match="gpu.power_limit on gpu:7: GPU GPU-gone not reachable .NVML: Not Found."):
        reopen({"kind": "gpu.power_limit", "target": "gpu:7", "uuid": "GPU-gone"})


@pytest.mark.parametrize(("device", "message"), [
    ("cpu", "gpu.power_limit changes an NVIDIA GPU: the run's device must be cuda or cuda:N, not 'cpu'"),
    ("cuda:x", "not 'cuda:x'"),
    ("cuda:4", "gpu.power_limit: no GPU cuda:4 here .2 visible to this process."),
])
def test_a_device_that_is_not_a_gpu_here_is_refused(nv: ModuleType, device: str, message: str) -> None:
    with pytest.raises(KnobRefused, match=message):
        open_knobs("gpu.power_limit", device)


def test_no_pynvml_no_driver_or_no_limit_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    with pytest.raises(KnobRefused, match=r"^gpu.power_limit: pynvml \(nvidia-ml-py\) not installed$"):
        open_knobs("gpu.power_limit", "cuda")
    with pytest.raises(KnobFailed, match="not installed"):
        reopen({"kind": "gpu.power_limit", "target": "gpu:0"})
    broken = fake_nvml_knobs.make()
    broken.nvmlInit = lambda: (_ for _ in ()).throw(NVMLError_DriverNotLoaded("Driver Not Loaded"))
    monkeypatch.setitem(sys.modules, "pynvml", broken)
    with pytest.raises(KnobRefused, match=r"^gpu.power_limit: no NVIDIA driver here \(NVML: Driver Not Loaded\)$"):
        open_knobs("gpu.power_limit", "cuda")
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml_knobs.make([fake_nvml_knobs.LimitedGpu(limits=False)]))
    with pytest.raises(KnobRefused, match="gpu:0 .NVIDIA H100 80GB HBM3.: reading the power limit: NVML said Not "
                                          "Supported"):
        open_knobs("gpu.power_limit", "cuda:0")


def test_gpus_are_numbered_as_cuda_sees_them(nv: ModuleType, admin: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.power.knobs import nvml_device

    second = _gpu(nv, 1)
    monkeypatch.setattr(nvml_device, "cuda_ordinals", lambda: {second.uuid: 0})  # CUDA_VISIBLE_DEVICES=1
    (knob,) = open_knobs("gpu.power_limit", "cuda")
    assert knob.target == "gpu:0" and knob.spec()["uuid"] == second.uuid
    knob.set(250.0)
    assert second.limit_mw == 250_000 and _gpu(nv, 0).limit_mw == 700_000
