"""Fixtures shared by the test suite."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

MODULE = '''
from bench.workload import Workload
from bench.errors import VerificationError


class CountingWorkload(Workload):
    """Counts; verification fails when asked to."""

    name = "thirdparty-count"
    unit = "op"
    devices = ("cpu",)
    presets = {"ci": {"chunk": 1000, "broken": False}, "full": {"chunk": 100000, "broken": False}}
    description = "third-party test workload"

    def setup(self, device, params):
        self.chunk = params["chunk"]
        self.broken = params["broken"]

    def verify(self):
        if self.broken:
            raise VerificationError("deliberately wrong output")

    def step(self):
        return sum(1 for _ in range(self.chunk))

    def ceiling(self, device):
        return 1e12
'''


def make_distribution(root: Path) -> Path:
    """Write ``sitebench_thirdparty`` with its dist-info into ``root``; return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sitebench_thirdparty.py").write_text(MODULE)
    info = root / "sitebench_thirdparty-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sitebench-thirdparty\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[sitebench.workloads]\nthirdparty-count = sitebench_thirdparty:CountingWorkload\n"
    )
    return root


@pytest.fixture
def thirdparty_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A third-party distribution registering ``thirdparty-count``, importable for this test.

    Subprocesses see it when ``PYTHONPATH`` includes the returned directory.
    """
    root = make_distribution(tmp_path / "thirdparty")
    monkeypatch.syspath_prepend(str(root))
    yield root
    sys.modules.pop("sitebench_thirdparty", None)
