"""The CPU package limit against a fake powercap tree with writable constraints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bench.power.discovery import open_spec
from bench.power.knobs import (
    KnobFailed,
    KnobGuard,
    KnobRefused,
    check_before_change,
    open_knobs,
    permission,
    reopen,
    restore_journaled,
)
from bench.power.knobs.powercap import PackageLimit
from tests.bench.power import fake_powercap
from tests.bench.power.fake_powercap import limit_uw


def test_every_package_zone_and_no_sub_zone(zones: list[Path], admin: None) -> None:
    knobs = open_knobs("cpu.package_limit", "cpu")
    assert [k.label for k in knobs] == ["cpu.package_limit on intel-rapl:0", "cpu.package_limit on intel-rapl:1"]
    assert [k.target for k in open_knobs("cpu.package_limit", "cuda:0")] == ["intel-rapl:0", "intel-rapl:1"]
    knob = knobs[0]
    assert isinstance(knob, PackageLimit)
    assert (knob.kind, knob.unit) == ("cpu.package_limit", "W") and "writable" in knob.permission
    assert knob.read() == 250.0 and knob.stock() == 250.0
    assert knob.allowed().describe("W") == "1-250 W"
    assert knob.spec() == {"kind": "cpu.package_limit", "target": "intel-rapl:0", "path": str(zones[0])}
    assert knob.missing_permission() is None and knob.notes() == []


def test_set_restore_and_the_counter_follows(zones: list[Path], admin: None, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_powercap.live_counter(monkeypatch, want_w=205.0)
    meters = open_spec("rapl")
    a, b = open_knobs("cpu.package_limit", "cpu")
    journal: list[dict[str, Any]] = []
    with KnobGuard(journal.append) as guard:
        assert guard.apply(a, 120.0) == 120.0 and guard.apply(b, 150.5) == 150.5
        assert (limit_uw(zones[0]), limit_uw(zones[1])) == (120_000_000, 150_500_000)
        first = [m.read() for m in meters]
        time.sleep(0.2)
        last = [m.read() for m in meters]
        watts = [(y.energy_j - x.energy_j) / (y.t - x.t) for x, y in zip(first, last)]
        assert watts == [pytest.approx(120.0, rel=0.05), pytest.approx(150.5, rel=0.05)]
    assert (limit_uw(zones[0]), limit_uw(zones[1])) == (250_000_000, 250_000_000)
    assert [line["type"] for line in journal] == ["knob", "knob_set", "knob", "knob_set", "knob_restored",
                                                 "knob_restored"]
    assert [line["label"] for line in journal[-2:]] == [b.label, a.label], "restored in reverse order"
    core = zones[0].parent / "intel-rapl:0:0" / "constraint_0_power_limit_uw"
    assert core.read_text() == "0\n", "the core sub-zone is left alone"


def test_range_from_the_zones_min_else_a_floor_and_its_max_else_the_first_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path))
    fake_powercap.zone(tmp_path, "intel-rapl:0", "package-0", limit_w=125.0, max_w=None, min_w=35.0)
    fake_powercap.zone(tmp_path, "intel-rapl:1", "package-1", limit_w=125.0, max_w=0.0)
    a, b = open_knobs("cpu.package_limit", "cpu")
    assert a.allowed().describe("W") == "35-125 W" and b.allowed().describe("W") == "1-125 W"


@pytest.mark.parametrize("value", [0.5, 250.1])
def test_out_of_range_is_refused_before_anything_changes(zones: list[Path], admin: None, value: float) -> None:
    knobs = open_knobs("cpu.package_limit", "cpu")
    with pytest.raises(KnobRefused, match=rf"cpu.package_limit on intel-rapl:1: {value:g} W is outside the device's "
                                          r"own range \(1-250 W\)"):
        check_before_change(knobs, [(knobs[0], 100.0), (knobs[1], value)])
    assert [limit_uw(z) for z in zones] == [250_000_000, 250_000_000]


def test_no_permission_or_a_file_not_writable_changes_nothing(zones: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    knobs = open_knobs("cpu.package_limit", "cpu")
    monkeypatch.setattr(permission, "is_admin", lambda: False)
    with pytest.raises(KnobRefused, match="cpu.package_limit on intel-rapl:0: .* lacks CAP_SYS_ADMIN .changing it "
                                          "needs root or CAP_SYS_ADMIN, and the zone's constraint_0_power_limit_uw "
                                          "writable.; nothing was changed"):
        check_before_change(knobs, [(k, 100.0) for k in knobs])
    monkeypatch.setattr(permission, "is_admin", lambda: True)
    monkeypatch.setattr(permission, "writable", lambda path: path.parent.name != "intel-rapl:1")
    with pytest.raises(KnobRefused, match=r"intel-rapl:1: .*intel-rapl:1/constraint_0_power_limit_uw is not writable "
                                          "by this process"):
        check_before_change(knobs, [(k, 100.0) for k in knobs])
    assert [limit_uw(z) for z in zones] == [250_000_000, 250_000_000]


def test_a_write_the_kernel_refuses_is_a_failed_point(zones: list[Path], admin: None) -> None:
    (knob, _) = open_knobs("cpu.package_limit", "cpu")
    (zones[0] / "constraint_0_power_limit_uw").unlink()
    (zones[0] / "constraint_0_power_limit_uw").mkdir()  # any write now fails, root or not
    with pytest.raises(KnobFailed, match="cpu.package_limit on intel-rapl:0: writing 100 W to .*: "):
        knob.set(100.0)


def test_no_tree_or_no_package_limit_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path / "absent"))
    with pytest.raises(KnobRefused, match=r"^cpu.package_limit: .*absent not present \(no powercap; set "
                                          "SITEBENCH_POWERCAP_ROOT"):
        open_knobs("cpu.package_limit", "cpu")
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path))
    fake_powercap.zone(tmp_path, "intel-rapl:0", "package-0", limit_w=None)
    with pytest.raises(KnobRefused, match="no RAPL package zone with constraint_0_power_limit_uw under"):
        open_knobs("cpu.package_limit", "cpu")


def test_notes_say_when_the_limit_means_less(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path))
    fake_powercap.zone(tmp_path, "intel-rapl:0", "package-0", enabled=0, constraint="short_term")
    (knob,) = open_knobs("cpu.package_limit", "cpu")
    assert knob.notes() == ["cpu.package_limit on intel-rapl:0: the zone's enabled file reads 0, so its limits are "
                            "not enforced",
                            "cpu.package_limit on intel-rapl:0: constraint 0 is 'short_term', not the long-term "
                            "limit (PL1)"]


def test_reopen_only_names_a_zone_under_the_root(zones: list[Path], admin: None) -> None:
    knob = reopen({"kind": "cpu.package_limit", "target": "intel-rapl:1", "path": "/elsewhere"})
    assert knob.read() == 250.0 and knob.label == "cpu.package_limit on intel-rapl:1"
    for target in ("../../etc", "intel-rapl:0:0", "intel-rapl:0/../x"):
        with pytest.raises(KnobFailed, match="is not a powercap package zone"):
            reopen({"kind": "cpu.package_limit", "target": target})
    with pytest.raises(KnobFailed, match="intel-rapl:5: .*intel-rapl:5/constraint_0_power_limit_uw not present"):
        reopen({"kind": "cpu.package_limit", "target": "intel-rapl:5"})


def test_restore_journaled_after_a_simulated_kill(zones: list[Path], admin: None) -> None:
    a, b = open_knobs("cpu.package_limit", "cpu")
    journal: list[dict[str, Any]] = []
    guard = KnobGuard(journal.append)
    guard.apply(a, 90.0)
    guard.apply(a, 80.0)
    guard.apply(b, 95.0)
    # the run dies here: no knob_restored lines; a knob_set alone does not make a line pending
    assert [limit_uw(z) for z in zones] == [80_000_000, 95_000_000]
    restored, failures = restore_journaled(journal)
    assert restored == ["cpu.package_limit on intel-rapl:0: restored to 250.0",
                        "cpu.package_limit on intel-rapl:1: restored to 250.0"] and failures == []
    assert [limit_uw(z) for z in zones] == [250_000_000, 250_000_000]
    assert restore_journaled(journal + [{"type": "knob_restored", "label": a.label, "value": 250.0},
                                        {"type": "knob_restored", "label": b.label, "value": 250.0}]) == ([], [])


def test_restore_journaled_names_the_zone_it_could_not_reach(zones: list[Path], admin: None,
                                                             monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    a, b = open_knobs("cpu.package_limit", "cpu")
    journal: list[dict[str, Any]] = []
    guard = KnobGuard(journal.append)
    guard.apply(a, 90.0)
    guard.apply(b, 90.0)
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path / "gone"))
    restored, failures = restore_journaled(journal)
    assert restored == [] and len(failures) == 2
    assert failures[0].startswith("cpu.package_limit on intel-rapl:0: could not restore 250.0: cpu.package_limit on "
                                  "intel-rapl:0: ")
    assert "gone/intel-rapl:0/constraint_0_power_limit_uw not present" in failures[0]


KILLED_RUN = """
import json, os, signal, sys
from bench.power.knobs import KnobGuard, open_knobs, permission
permission.is_admin = lambda: True
journal = open(sys.argv[1], "a")
def write(line):
    journal.write(json.dumps(line) + "\\n")
    journal.flush()
    os.fsync(journal.fileno())
guard = KnobGuard(write)
for knob in open_knobs("cpu.package_limit", "cpu"):
    guard.apply(knob, 100.0)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_recover_after_a_real_sigkill(zones: list[Path], admin: None, tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    child = subprocess.run([sys.executable, "-c", KILLED_RUN, str(path)], env=dict(os.environ), timeout=120,
                           capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert [limit_uw(z) for z in zones] == [100_000_000, 100_000_000]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    restored, failures = restore_journaled(lines)
    assert len(restored) == 2 and failures == []
    assert [limit_uw(z) for z in zones] == [250_000_000, 250_000_000]
