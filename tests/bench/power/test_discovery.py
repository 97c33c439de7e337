"""Opening meters by policy (this machine, a server, a wall meter per machine), `sitebench list`, `run --meter`."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.commands import list as list_cmd
from bench.errors import MeterUnavailable, UsageError
from bench.power import discovery
from bench.power.discovery import Policy, discover, open_meters
from bench.power.meter import Meter, NoReading, Reading
from bench.power.spec import BACKENDS, MeterSpec
from tests.bench.power import fake_pynvml
from tests.bench.power.meters.test_rapl import _zone


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with one RAPL package and one H100 (fake powercap tree and fake pynvml)."""
    _zone(tmp_path, "intel-rapl:0", "package-0")
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path))
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml.make())


def test_list_shows_every_backend_with_why_it_is_unavailable(machine: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert list_cmd.main(argparse.Namespace(json=True)) == 0
    rows = json.loads(capsys.readouterr().out)["meters"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["rapl:cpu-package:0"]["available"] and by_name["rapl:cpu-package:0"]["scope"] == "cpu-package:0"
    assert by_name["nvml:gpu:0"]["accuracy_w"] == 5.0
    assert by_name["model:cpu"]["reason"] == "not used by default: a measured meter works"
    kinds = {r.get("kind") for r in rows}
    assert kinds >= set(BACKENDS)
    assert all(r["reason"] for r in rows if not r["available"])


def test_list_shows_the_grammar_of_every_meter(machine: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert list_cmd.main(argparse.Namespace(json=True)) == 0
    grammar = {g["name"]: g for g in json.loads(capsys.readouterr().out)["grammar"]}
    assert list(grammar) == list(BACKENDS)
    assert [o["name"] for o in grammar["snmp"]["options"] if o["secret"]] == ["community"]
    assert list_cmd.main(argparse.Namespace(json=False)) == 0
    table = capsys.readouterr().out
    assert "--meter NAME[:TARGET][,key=value]..." in table and "prometheus:URL,metric=NAME" in table


def test_default_discovery_drops_the_model_when_something_is_measured(machine: None) -> None:
    meters, _ = discover()
    assert sorted(m.kind for m in meters) == ["nvml", "rapl"]


def test_explicit_meter_that_cannot_open_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path / "none"))
    with pytest.raises(UsageError, match=r"--meter rapl: .*not present"):
        discover(["rapl"])
    with pytest.raises(UsageError, match="unknown meter 'bogus'"):
        discover(["bogus"])


def test_run_with_an_unusable_meter_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SITEBENCH_POWERCAP_ROOT": str(tmp_path / "none")}
    proc = subprocess.run([sys.executable, "-m", "bench", "run", "-w", "sha256", "--meter", "rapl", "--quiet",
                           "--out", str(tmp_path / "r.json")], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--meter rapl:" in lines[0] and "not present" in lines[0]


def test_a_run_on_one_gpu_measures_that_gpu_by_default(machine: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml.make([fake_pynvml.Gpu() for _ in range(4)]))
    meters, _ = discover(device="cuda:2")
    assert sorted(m.scope for m in meters) == ["cpu-package:0", "gpu:2"]
    assert len([m for m in discover(["nvml"], device="cuda:2")[0]]) == 4  # named explicitly: every GPU
    assert sorted(m.scope for m in discover(device="cpu")[0]) == ["cpu-package:0", "gpu:0", "gpu:1", "gpu:2", "gpu:3"]


class Tracked(Meter):
    """A meter that says whether it was closed."""

    kind = "model"

    def __init__(self, scope: str = "wall", name: str = "tracked") -> None:
        super().__init__(name, scope, accuracy=None, accuracy_note="test", update_period_s=1.0, method="polled")
        self.closed = False

    def read(self) -> Reading:
        return Reading(t=0.0, power_w=1.0)

    def close(self) -> None:
        self.closed = True


def test_a_named_meter_that_fails_closes_the_ones_already_open(monkeypatch: pytest.MonkeyPatch) -> None:
    opened = Tracked("node")
    monkeypatch.setitem(discovery.OPENERS, "model", lambda spec: [opened])

    def refuse(spec: MeterSpec) -> list[Meter]:
        raise MeterUnavailable("not here")

    monkeypatch.setitem(discovery.OPENERS, "rapl", refuse)
    with pytest.raises(UsageError, match="^--meter rapl: not here$"):
        open_meters(["model", "rapl"], Policy.here())
    assert opened.closed
    with pytest.raises(UsageError, match="unknown meter 'bogus'"):
        open_meters(["model", "bogus"], Policy.here())  # every spec is checked before anything opens


def test_a_remote_server_refuses_meters_of_this_machine() -> None:
    remote = Policy.server("http://gpu-node:8000/v1")
    for spec in ("rapl", "nvml:0", "model", "ipmi"):
        with pytest.raises(UsageError) as info:
            open_meters([spec], remote)
        message = str(info.value)
        assert message.startswith(f"--meter {spec}: measures this machine (the load generator), not the server at "
                                  "gpu-node") and "redfish:URL" in message and "\n" not in message
    none = open_meters(None, remote)
    assert none.meters == [] and "no power meter for a remote server (gpu-node)" in none.notes[0]


def test_a_server_on_loopback_is_measured_by_this_machine(machine: None) -> None:
    for url in ("http://127.0.0.1:8000", "http://localhost:8000"):
        default = open_meters(None, Policy.server(url))
        assert sorted(m.kind for m in default.meters) == ["nvml", "rapl"]
        assert default.notes == ["server on this machine: its meters also measure the load generator"]
        named = open_meters(["rapl"], Policy.server(url))
        assert [m.kind for m in named.meters] == ["rapl"] and named.notes == default.notes
        default.close()
        named.close()


def test_wall_policy_gives_one_wall_meter_per_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "pdu.csv"
    log.write_text("timestamp,watts\n1700000000,3300\n1700000001,3310\n")

    def silent(spec: MeterSpec) -> list[Meter]:
        raise NoReading(f"{spec.target}: no answer within 2 s")

    monkeypatch.setitem(discovery.OPENERS, "snmp", silent)
    opened = open_meters({"10.0.1.5": f"csv:{log}", "10.0.1.6": "snmp:pdu-7,outlet=3,community=s3cret"},
                         Policy.wall("miner"))
    assert list(opened.by_machine) == ["10.0.1.5"] and opened.by_machine["10.0.1.5"].scope == "wall"
    assert opened.failed == {"10.0.1.6": "wall meter snmp:pdu-7,outlet=3,community=***: pdu-7: no answer within 2 s"}
    with pytest.raises(UsageError, match="measures this host, not the miner 10.0.1.5"):
        open_meters({"10.0.1.5": "model"}, Policy.wall("miner"))
    with pytest.raises(UsageError, match=r"measures node, not the wall power of the miner 10.0.1.5"):
        open_meters({"10.0.1.5": f"csv:{log},scope=node"}, Policy.wall("miner"))
    with pytest.raises(UsageError, match=r"--meter csv:nosuch.csv \(miner 10.0.1.5\): nosuch.csv: no such file"):
        open_meters({"10.0.1.5": "csv:nosuch.csv"}, Policy.wall("miner"))
