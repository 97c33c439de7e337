"""Fleet runs: 2 real gloo ranks via torchrun, lost-rank timeout, command builders, --all-devices on CPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.record import load
from bench.run.launch import all_devices_args, srun_cmd, torchrun_cmd
from bench.run.ranks import Fleet, totals
from tests.records import document, meter, run

ROOT = Path(__file__).resolve().parents[3]
FAST = ["--window", "0.3", "--repeats", "2", "--idle", "0", "--warmup", "0.1", "-q"]


class FakeStore:
    """The two calls Fleet.collect uses of a c10d store."""

    def __init__(self) -> None:
        self.d: dict[str, bytes] = {}

    def set(self, k: str, v: str) -> None:
        self.d[k] = v.encode()

    def check(self, keys: list[str]) -> bool:
        return all(k in self.d for k in keys)

    def get(self, k: str) -> bytes:
        return self.d[k]

    def add(self, k: str, n: int) -> int:
        value = int(self.d.get(k, b"0")) + n
        self.d[k] = str(value).encode()
        return value


def _run(wl: str, tput: float, watts: float | None):  # type: ignore[no-untyped-def]
    return run(wl, "cpu", tput, watts)


def test_torchrun_two_gloo_ranks_write_one_fleet_file(tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    cmd = torchrun_cmd(["--device", "cpu", "-w", "sha256d", *FAST, "--out", str(out)], nproc=2)
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    doc = load(out)  # schema-valid
    assert sorted(r.rank for r in doc.runs) == [0, 1]
    assert all(r.workload == "sha256d" and r.verified and r.node for r in doc.runs)
    assert all(r.metrics.get("fleet_aligned") is None for r in doc.runs), "both ranks met before their windows"
    fleet = doc.fleet
    assert fleet is not None and fleet.world_size == 2 and fleet.lost_ranks == []
    total = sum(r.throughput.rate or 0.0 for r in doc.runs)
    assert abs(fleet.totals["sha256d"].throughput - total) < 1e-6 * total
    assert not list(tmp_path.glob("*.rank1*")), "non-zero ranks must not leave files"


def test_lost_rank_is_reported_and_survivors_kept() -> None:
    store = FakeStore()
    r1 = Fleet(1, 3, 1, "n1", store)
    r1.collect(document([_run("w", 10.0, 5.0)], hostname="n1"))
    r0 = Fleet(0, 3, 0, "n0", store)
    doc = r0.collect(document([_run("w", 12.0, 6.0)], hostname="n0"), timeout_s=0.3)
    assert doc is not None and doc.fleet is not None and doc.fleet.lost_ranks == [2]
    assert [(r.rank, r.node) for r in doc.runs] == [(0, "n0"), (1, "n1")]
    assert doc.fleet.totals["w"].throughput == pytest.approx(22.0)
    assert set(doc.fleet.nodes) == {"n0", "n1"}


def test_align_waits_for_every_rank_and_gives_up_at_the_deadline() -> None:
    store = FakeStore()
    a, b = Fleet(0, 2, 0, "n", store, timeout_s=0.2), Fleet(1, 2, 1, "n", store, timeout_s=0.2)
    assert a.align("lonely") is False and a.unaligned == ["lonely"], "a missing rank delays, never hangs"
    b.align("together")
    assert a.align("together") is True


def test_totals_do_not_size_failed_meters_as_zero() -> None:
    runs = [_run("w", 1.0, 100.0).model_copy(update={"node": "a"}), _run("w", 1.0, None).model_copy(update={"node": "a"}),
            _run("w", 1.0, 50.0).model_copy(update={"node": "b"})]
    t = totals(runs)["w"]
    assert t.avg_w is None and t.nodes["a"].avg_w is None and t.nodes["b"].avg_w == 50.0


def test_command_builders() -> None:
    c = torchrun_cmd(["-w", "sha256d"], nproc=8, python="python")
    assert c == ["python", "-m", "torch.distributed.run", "--nproc-per-node=8", "--standalone",
                 "-m", "bench", "run", "-w", "sha256d"]
    s = srun_cmd(["-w", "sha256d"], nproc=8, nnodes=4)
    assert s[:4] == ["srun", "--nodes=4", "--ntasks-per-node=1", "bash"]
    assert "--nnodes=4" in s[-1] and "--rdzv-endpoint=$MASTER_ADDR:29500" in s[-1] and "scontrol" in s[-1]
    assert all_devices_args(["--all-devices", "-d", "cpu", "-w", "x"]) == ["-w", "x", "--device", "cuda"]


def test_cli_fleet_dry_run_and_all_devices_without_gpu() -> None:
    def cli(*a: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bench", *a], capture_output=True, text=True, cwd=ROOT,
                              timeout=60)

    r = cli("fleet", "--nproc-per-node", "2", "--dry-run", "--", "-w", "sha256d")
    assert r.returncode == 0 and "--standalone" in r.stdout and "-m bench run -w sha256d" in r.stdout
    r = cli("fleet", "--nnodes", "2", "--dry-run")
    assert r.returncode == 2 and "needs --rdzv" in r.stderr
    r = cli("run", "--all-devices", "-w", "sha256d")
    assert r.returncode == 2 and "no CUDA GPU" in r.stderr and "Traceback" not in r.stderr


def _metered(wl: str, tput: float, local: int, meters: list[tuple[str, float]]):  # type: ignore[no-untyped-def]
    ms = [meter(s, w, name=s) for s, w in meters]
    return run(wl, f"cuda:{local}", tput, sum(w for _, w in meters), meters=ms, node="n0")


def test_node_power_counts_each_meter_scope_once_not_once_per_rank() -> None:
    node_wide = [("node", 3000.0), ("cpu-package:0", 300.0)]
    runs = [_metered("w", 10.0, i, [*node_wide, (f"gpu:{i}", 600.0 + i)]) for i in range(4)]
    t = totals(runs)["w"]
    assert t.nodes["n0"].avg_w == 3000.0, "the node meter, once, not 4 x 3000"
    components = [_metered("w", 10.0, i, [("cpu-package:0", 300.0), (f"gpu:{i}", 600.0)]) for i in range(2)]
    assert totals(components)["w"].avg_w == pytest.approx(300.0 + 2 * 600.0, rel=1e-12), \
        "shared package once, each GPU once"
