"""Fixtures for the machine knobs: a fake NVML with knobs, a fake powercap tree, and the process's permission."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

from bench.power.knobs import nvml_clocks, nvml_device, permission
from tests.bench.power import fake_nvml_knobs, fake_powercap


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process may change knobs (whoever runs the tests)."""
    monkeypatch.setattr(permission, "is_admin", lambda: True)


@pytest.fixture
def not_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process is neither root nor holds CAP_SYS_ADMIN (whoever runs the tests)."""
    monkeypatch.setattr(permission, "is_admin", lambda: False)


@pytest.fixture(autouse=True)
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process sees no CUDA device (GPUs are numbered by NVML index); no clock lock applied yet."""
    monkeypatch.setattr(nvml_device, "cuda_ordinals", lambda: {})
    monkeypatch.setattr(nvml_clocks, "_LOCKED", {})


@pytest.fixture
def nv(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Two H100s wanting 620 W and 450 W, at the default 700 W limit, unlocked."""
    fake = fake_nvml_knobs.make([fake_nvml_knobs.LimitedGpu(want_w=620.0), fake_nvml_knobs.LimitedGpu(want_w=450.0)])
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    return fake


@pytest.fixture
def zones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Two package zones (PL1 250 W, max 250 W) under a fresh powercap root."""
    return fake_powercap.install(tmp_path / "powercap", monkeypatch)
