"""A killed run's temperatures come back: every temperature source and meter channel is journaled as it is read,
and ``recover`` rebuilds the run's thermal block from the journal through the code a live run uses.

In process: a run with a fake NVML board, a fake hwmon tree and a slow remote source that fails once, whose
journal, without the run's record (as a SIGKILL leaves it), recovers to the live run's thermal block. Then a real
``sitebench run --soak`` reading hwmon and a PDU's probe (snmpsim) SIGKILLed after five windows (waiting on
journal lines, not time), recovered with every channel in each window it measured.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest

from bench.errors import MeterReadError
from bench.measure.journal import Journal, unframe
from bench.measure.recover import recover
from bench.power.channels import Channel
from bench.power.meters import nvml
from bench.power.sampler import Sampler
from bench.power.thermal.hwmon import HwmonSource
from bench.power.thermal.sampler import ThermalSampler
from bench.power.thermal.source import ThermalSource
from bench.record import Settings, System, Timing, new_document
from bench.record.thermal import Thermal
from bench.run.runner import run_workload
from tests.bench.power import fake_hwmon, fake_pynvml
from tests.bench.power.fakes import Sleeper

TIMING = Timing(idle_s=0.05, warmup_s=0.05, window_s=0.3, repeats=3, tail_s=0.05)
#: per window: GPU core C, NVML reasons, CPU package 0 C, the room's air C
SCHEDULE = [(61, fake_pynvml.SW_POWER_CAP, 55.0, 24.0),
            (75, fake_pynvml.SW_POWER_CAP | fake_pynvml.HW_THERMAL_SLOWDOWN, 71.5, 26.5),
            (90, fake_pynvml.HW_THERMAL_SLOWDOWN, 88.25, 29.0)]


class Room(ThermalSource):
    """A PDU's probe read only when the test says (its period is long): the room's air and humidity; ``fail``
    makes the next read a gap."""

    kind = "snmp"

    def __init__(self) -> None:
        super().__init__("snmp:pdu-7", [Channel("pdu:pdu-7", "ambient_c", "ambient", "°C", "probe 1", {"high": 35.0}),
                                        Channel("pdu:pdu-7", "humidity_rh", "humidity", "%RH", "probe 1")],
                         period_s=1000.0, notes=["APC rPDU2 probe (test)"])
        self.air, self.fail = 23.0, False

    def read(self) -> dict[str, float]:
        if self.fail:
            self.fail = False
            raise MeterReadError("pdu-7: no answer within 2 s")
        return {"pdu:pdu-7.ambient_c": self.air, "pdu:pdu-7.humidity_rh": 40.0}


class Scheduled(Sampler):
    """Sets the fakes to window N's figures just before the marker that opens window N, and reads the room then
    (a failed read first in window 1): every reading of window N carries its figures."""

    def __init__(self, gpu: fake_pynvml.Gpu, tree: fake_hwmon.Tree, room: Room, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.gpu, self.tree, self.room = gpu, tree, room

    def mark(self, phase: str) -> float:
        name = phase.rsplit("/", 1)[-1]
        n = int(name[7:]) if name.startswith("window-") else -1
        if 0 <= n < len(SCHEDULE):
            core, reasons, cpu, air = SCHEDULE[n]
            self.gpu.temperature_c, self.gpu.reasons = core, reasons
            self.tree.set(0, cpu)
            self.room.air = air
        t = super().mark(phase)
        if 0 <= n < len(SCHEDULE) and self.thermal is not None:
            self.room.fail = n == 1
            self.thermal.poll(self.room.name)  # the gap, in window 1
            self.thermal.poll(self.room.name)
        return t


def _killed_before_the_record(path: Path) -> None:
    """The journal as a SIGKILL just before the run's record leaves it."""
    lines = path.read_bytes().splitlines(keepends=True)
    types = [json.loads(unframe(x)[0])["type"] for x in lines]
    path.write_bytes(b"".join(lines[: types.index("run")]))


def test_a_killed_runs_thermal_block_is_rebuilt_as_the_live_run_had_it(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    gpu = fake_pynvml.Gpu()
    monkeypatch.setattr(nvml, "_import", lambda: fake_pynvml.make([gpu]))
    monkeypatch.setattr(nvml, "cuda_ordinals", lambda: {})
    tree = fake_hwmon.intel(tmp_path / "hwmon")
    meters = nvml.open_spec(nvml.MeterSpec.parse("nvml"))
    room = Room()
    path = tmp_path / "r.json.journal.jsonl"
    journal = Journal(path)
    sampler = Scheduled(gpu, tree, room, meters=meters, rate_hz=0.001, journal=journal,
                        thermal=ThermalSampler([HwmonSource(tree.root, period_s=1000.0), room]))
    journal.header(new_document(System(), settings=Settings(timing=TIMING, sample_rate_hz=0.001)),
                   [m.figure() for m in meters])
    sampler.start()
    try:
        live = run_workload(Sleeper(), "cpu", {}, TIMING, sampler, log=journal).run
        journal.run(live)
    finally:
        sampler.stop()
        journal.close()
    kinds = [json.loads(unframe(x)[0])["type"] for x in path.read_bytes().splitlines()]
    assert {"meter-channels", "thermal-source", "thermal", "thermal-gap"} <= set(kinds)
    assert kinds.index("meter-channels") < kinds.index("thermal-source") < kinds.index("thermal")

    _killed_before_the_record(path)
    rec = recover(path)
    assert rec.clean and rec.outcomes == ["in progress"], [d.reason for d in rec.damage]
    (back,) = rec.document.runs
    assert live.thermal is not None and back.thermal is not None
    assert _figures(back.thermal) == _figures(live.thermal)
    assert back.thermal.throttle == live.thermal.throttle and back.thermal.notes == live.thermal.notes
    air = back.thermal.channel("pdu:pdu-7.ambient_c")
    cpu = back.thermal.channel("cpu-package:0.package_c")
    core = back.thermal.channel("gpu:0.core_c")
    assert air is not None and cpu is not None and core is not None
    assert [w.mean for w in air.windows if w] == [s[3] for s in SCHEDULE]
    assert (air.source, air.role, air.thresholds, air.gaps) == ("snmp", "ambient", {"high": 35.0}, 1)
    assert air.gap_reason == "pdu-7: no answer within 2 s"
    assert [w.mean for w in cpu.windows if w] == [s[2] for s in SCHEDULE] and cpu.thresholds["crit"] == 100.0
    assert [w.mean for w in core.windows if w] == [s[0] for s in SCHEDULE]
    assert core.thresholds == {"shutdown": 92.0, "slowdown": 89.0, "gpu_max": 87.0}
    assert back.thermal.inlet() is air  # the derating fit's channel: the room's air


def _figures(th: Thermal) -> list[object]:
    """Everything of each channel but its plot series (the live one ends when the record was built, the rebuilt
    one where the journal does)."""
    return [c.model_copy(update={"series": []}) for c in th.channels]


def test_readings_of_an_undeclared_source_and_a_changed_declaration_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.json.journal.jsonl"
    journal = Journal(path)
    journal.header(new_document(System(), settings=Settings(timing=TIMING)), [])
    decl = {"type": "thermal-source", "source": "snmp:pdu-7", "kind": "snmp", "period_s": 5.0, "local": False,
            "notes": [], "channels": [{"device": "pdu:pdu-7", "key": "ambient_c", "role": "ambient", "unit": "°C",
                                       "sensor": "", "thresholds": {}}]}
    journal.write({"type": "thermal", "source": "snmp:pdu-7", "t": 1.0, "values": {"pdu:pdu-7.ambient_c": 20.0}})
    journal.write(decl)
    journal.write({**decl, "kind": "redfish"})
    journal.write({"type": "thermal", "source": "snmp:pdu-7", "t": 3.0, "values": {"pdu:pdu-7.ambient_c": 21.0}})
    journal.write({"type": "thermal", "source": "snmp:pdu-7", "t": 2.0, "values": {"pdu:pdu-7.ambient_c": 22.0}})
    journal.write({"type": "thermal", "source": "snmp:pdu-7", "t": 4.0, "values": {"pdu:pdu-7.ambient_c": "hot"}})
    journal.close()
    rec = recover(path)
    reasons = [d.reason for d in rec.damage]
    assert any("no thermal-source line declares" in r for r in reasons)
    assert any("a second, different declaration of snmp:pdu-7" in r for r in reasons)
    assert any("out of time order" in r for r in reasons)
    assert any(r.startswith("a thermal line that fails its types") for r in reasons)


# --- a real soak, killed ------------------------------------------------------------------------------------

HAVE_SNMP = find_spec("snmpsim") is not None and find_spec("pysnmp") is not None


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not HAVE_SNMP:
        pytest.skip("snmpsim or pysnmp is not installed (pip install -e '.[test]')")
    from tests.bench.power.meters.snmpagent import Agent

    a = Agent(tmp_path_factory.mktemp("snmpsim"))
    yield a
    a.stop()


def _lines(journal: Path) -> list[dict[str, object]]:
    if not journal.exists():
        return []
    out = []
    for raw in journal.read_bytes().splitlines():
        try:
            out.append(json.loads(unframe(raw)[0]))
        except ValueError:  # the line being written
            pass
    return out


def test_a_soak_killed_midway_keeps_every_channel_of_each_window(tmp_path: Path, agent: object) -> None:
    tree = fake_hwmon.intel(tmp_path / "hwmon", (55.0, 57.0))
    out = tmp_path / "r.json"
    journal = Path(f"{out}.journal.jsonl")
    probe = f"snmp:{agent.arg('apc-env')},period=0.2"  # type: ignore[attr-defined]
    env = {**os.environ, "SITEBENCH_HWMON_ROOT": str(tree.root)}
    proc = subprocess.Popen([sys.executable, "-m", "bench", "run", "-w", "sha256", "--meter", "model", "--soak", "1m",
                             "--window", "0.5", "--thermal", "hwmon", "--thermal", probe, "--quiet", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 240
        while sum(x["type"] == "window" for x in _lines(journal)) < 5:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-2000:]
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert not out.exists()
    r = subprocess.run([sys.executable, "-m", "bench", "recover", str(journal)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    (run,) = json.loads(out.read_text())["runs"]
    n = run["soak"]["windows"]
    assert run["status"] == "interrupted" and n >= 5
    channels = {c["name"]: c for c in run["thermal"]["channels"]}
    device = f"pdu:127.0.0.1:{agent.port}"  # type: ignore[attr-defined]
    want = {"cpu-package:0.package_c": ("hwmon", "package", "°C", 55.0),
            "cpu-package:1.package_c": ("hwmon", "package", "°C", 57.0),
            f"{device}.ambient_c": ("snmp", "ambient", "°C", 23.5),
            f"{device}.humidity_rh": ("snmp", "humidity", "%RH", 48.0)}
    for name, (source, role, unit, value) in want.items():
        c = channels[name]
        assert (c["source"], c["role"], c["unit"]) == (source, role, unit), name
        assert len(c["windows"]) == n and all(w is not None for w in c["windows"]), name
        assert all(w["mean"] == pytest.approx(value) for w in c["windows"]), name
    assert channels["cpu-package:0.package_c"]["thresholds"] == {"max": 90.0, "crit": 100.0}
    assert channels[f"{device}.ambient_c"]["thresholds"] == {"max": 40.0, "high": 35.0}
    assert all(w["readings"] >= 1 for w in channels["cpu-package:0.package_c"]["windows"])  # read at each marker
    checked = subprocess.run([sys.executable, "-m", "bench", "validate", str(out)], capture_output=True, text=True,
                             timeout=120)
    assert "[soak]" not in checked.stdout and "thermal" not in checked.stdout, checked.stdout
