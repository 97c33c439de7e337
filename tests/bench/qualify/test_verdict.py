"""Outliers (MAD), spec parsing and qualify verdicts, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.qualify.outliers import fleet_outliers, low_outliers
from bench.qualify.spec import load_spec, parse_spec
from bench.qualify.verdict import qualify
from bench.record import Document, Fleet, MinMeanMax, Run, TelemetrySummary, schema_errors
from tests.records import document, meter, run

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "results" / "specs" / "h100x8-node.toml"


def _run(rank: int, node: str, tput: float, watts: float | None = 600.0, wl: str = "sha256d",
         summary: TelemetrySummary | None = None, node_w: float | None = None) -> Run:
    local = rank % 8
    meters = [] if watts is None else [meter(f"gpu:{local}", watts, name=f"nvml:{local}", telemetry_summary=summary)]
    if node_w is not None:
        meters.append(meter("node", node_w, name="ipmi:node"))
    total = None if watts is None else (node_w or watts)
    return run(wl, f"cuda:{local}", tput, total, meters=meters, scope="node" if node_w else f"gpu:{local}",
               local_device=f"cuda:{local}", rank=rank, node=node)


def _fleet(n_nodes: int = 2, slow: set[int] = frozenset(), **kw) -> Document:  # type: ignore[no-untyped-def]
    runs = [_run(r, f"node{r // 8}", 6.0e9 * (0.5 if r in slow else 1.0) * (1 + 0.001 * (r % 3)), **kw)
            for r in range(8 * n_nodes)]
    return document(runs, hostname="node0")


def test_mad_flags_only_the_slow_one_and_never_identical() -> None:
    same = {f"g{i}": 100.0 for i in range(8)}
    assert low_outliers(same, workload="w", metric="throughput") == []
    vals = {**same, "g3": 80.0}
    found = low_outliers(vals, workload="w", metric="throughput")
    assert [o.key for o in found] == ["g3"]
    assert "20.0% below the fleet median 100" in found[0].reason()
    # 1% slower: beyond k*MAD (MAD 0) but inside the 5% minimum gap -> not flagged
    assert low_outliers({**same, "g3": 99.0}, workload="w", metric="throughput") == []
    # faster than the median is never a problem
    assert low_outliers({**same, "g3": 150.0}, workload="w", metric="throughput") == []


def test_fleet_outliers_per_workload_and_metric() -> None:
    doc = _fleet(slow={5})
    keys = {(o.key, o.metric) for o in fleet_outliers(doc.runs)}
    assert keys == {("node0/rank5/cuda:5", "throughput"), ("node0/rank5/cuda:5", "efficiency")}


def test_example_spec_is_valid_and_schema_accepts_fleet_runs() -> None:
    spec = load_spec(SPEC)
    assert spec.gpus_per_node == 8 and spec.max_gpu_w == 700 and "sha256d" in spec.workloads
    assert schema_errors(_fleet().to_json()) == []


def test_qualify_pass_and_reasons() -> None:
    spec = load_spec(SPEC)
    gpus, nodes, fleet = qualify(_fleet(), spec)
    assert len(gpus) == 16 and all(v.passed for v in gpus) and all(n.passed for n in nodes) and fleet.passed
    assert any("throttling not recorded" in n for n in gpus[0].notes)

    gpus, nodes, fleet = qualify(_fleet(slow={9}), spec)
    bad = {v.key: v.reasons for v in gpus if not v.passed}
    assert set(bad) == {"node1/rank9/cuda:1"}
    assert any("throughput 3 GH/s below minimum 5.5 GH/s" in r for r in bad["node1/rank9/cuda:1"]), "in units"
    assert any(r.startswith("outlier: sha256d throughput") for r in bad["node1/rank9/cuda:1"])
    assert [n.key for n in nodes if not n.passed] == ["node1"] and not fleet.passed


def test_qualify_power_throttle_lost_rank_and_missing_gpus() -> None:
    spec = load_spec(SPEC)
    hot = TelemetrySummary(series={"temperature_c": MinMeanMax(min=80, mean=85, max=90)},
                           throttle_reasons={"sw_thermal_slowdown": 0.4}, throttled=True)
    doc = _fleet(n_nodes=1, summary=hot)
    doc.runs[0] = _run(0, "node0", 6.0e9, watts=750.0, summary=hot)
    doc.runs.pop()
    doc.fleet = Fleet(world_size=8, lost_ranks=[7])
    gpus, nodes, fleet = qualify(doc, spec)
    assert any("GPU power 750.0 W above maximum 700 W" in r for r in gpus[0].reasons)
    assert all(any("throttled" in r for r in v.reasons) for v in gpus)
    assert any("7 GPUs reported, spec wants 8" in r for r in nodes[0].reasons)
    assert "rank 7 lost (died or timed out)" in fleet.reasons


def test_a_power_capped_gpu_is_not_throttling() -> None:
    capped = TelemetrySummary(throttle_reasons={"sw_power_cap": 1.0}, throttled=False)
    gpus, _, fleet = qualify(_fleet(n_nodes=1, summary=capped), load_spec(SPEC))
    assert fleet.passed and not any("throttled" in r for v in gpus for r in v.reasons)


def test_gpu_limit_reads_the_gpu_meter_and_node_power_counts_the_bmc_once() -> None:
    spec = parse_spec({"power": {"max_gpu_w": 700, "max_node_w": 9000}})
    # every rank of the node carries the node's BMC meter (8 kW) beside its own GPU (650 W):
    # the GPU limit judges 650 W (not 8 kW), the node 8 kW once (not 8 x 8 kW)
    doc = _fleet(n_nodes=1, watts=650.0, node_w=8000.0)
    gpus, nodes, fleet = qualify(doc, spec)
    assert fleet.passed, [v.reasons for v in [*gpus, *nodes]]
    spec = parse_spec({"power": {"max_node_w": 7000}})
    _, nodes, _ = qualify(doc, spec)
    assert any("node power 8000 W above maximum 7000 W" in r for r in nodes[0].reasons)


def test_failed_meters_are_not_sized_as_zero() -> None:
    spec = load_spec(SPEC)
    gpus, nodes, fleet = qualify(_fleet(n_nodes=1, watts=None), spec)
    assert all(any("GPU power not recorded" in r for r in v.reasons) for v in gpus)
    assert any("node power not recorded (meters failed), not sized as zero" in r for r in nodes[0].reasons)
    assert not fleet.passed


@pytest.mark.parametrize("text,needle", [
    ("[workloads.sha256d]\nmin_throughput = -1\n", "min_throughput must be a positive number"),
    ("[power]\nmax_gpu = 700\n", "unknown key power.max_gpu"),
    ("[spec\n", "not valid TOML"),
    ("[spec]\ngpus_per_node = 0\n", "gpus_per_node must be a positive integer"),
    ("[throttling]\nallowed = \"no\"\n", "allowed must be true or false"),
])
def test_bad_specs_raise_usage_error(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(UsageError, match=needle):
        load_spec(p)


def test_cli_exit_codes(tmp_path: Path) -> None:
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(_fleet(n_nodes=1).to_json()))
    slow = tmp_path / "slow.json"
    slow.write_text(json.dumps(_fleet(n_nodes=1, slow={2}).to_json()))
    bad = tmp_path / "bad.toml"
    bad.write_text("[nonsense]\n")
    cli = [sys.executable, "-m", "bench", "qualify"]

    def run(*a: str) -> subprocess.CompletedProcess:
        return subprocess.run([*cli, *a], capture_output=True, text=True, cwd=ROOT, timeout=60,
                              env={"COLUMNS": "250", "PATH": "/usr/bin:/bin"})

    r = run(str(ok), "--spec", str(SPEC))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fleet: PASS" in r.stdout
    r = run(str(slow), "--spec", str(SPEC))
    assert r.returncode == 1 and "FAIL" in r.stdout and "outlier" in r.stdout
    r = run(str(ok), "--spec", str(bad))
    assert r.returncode == 2 and "unknown key <top>.nonsense" in r.stderr and "Traceback" not in r.stderr


def test_a_gh200_is_judged_on_its_gpus_own_power_not_the_module_counter() -> None:
    from bench.qualify.verdict import gpu_power_w

    gpu = TelemetrySummary(series={"gpu_power_w": MinMeanMax(min=600.0, mean=650.0, max=690.0)})
    module = meter("module:0", 950.0, name="nvml:module:0", telemetry_summary=gpu)
    r = run("sha256d", "cuda:0", 6e9, 950.0, meters=[module], scope="module:0", local_device="cuda:0")
    assert gpu_power_w(r) == 650.0
    gpus, _, fleet = qualify(document([r]), parse_spec({"power": {"max_gpu_w": 700}}))
    assert not any("GPU power" in x for v in gpus for x in v.reasons)


def test_ranks_that_each_call_their_gpu_gpu0_are_still_two_gpus() -> None:
    from bench.measure.totals import node_power

    runs = [run("w", "cuda:0", 10.0, 600.0, meters=[meter("gpu:0", 600.0, device_uuid=f"GPU-{k}")],
                scope="gpu:0", node="n0", rank=k) for k in range(2)]
    assert node_power(runs) == pytest.approx(1200.0, rel=1e-12)


def test_each_device_is_named_by_its_kind_and_only_gpus_count_as_gpus(tmp_path: Path) -> None:
    spec = load_spec(SPEC)
    doc = document([run("sha256d", "cpu", 1.0e8, 300.0)], hostname="vm")
    (cpu,), (node,), fleet = qualify(doc, spec)
    assert (cpu.level, cpu.kind, cpu.key) == ("device", "CPU", "vm/cpu")
    assert not any("GPU power" in r for r in cpu.reasons), "a CPU is not judged by the GPU power limit"
    assert any("not a GPU" in n for n in cpu.notes) and "throughput 100 MH/s below minimum 5.5 GH/s" in cpu.reasons[0]
    assert "0 GPUs reported, spec wants 8" in node.reasons and not fleet.passed
    gpus, _, _ = qualify(_fleet(n_nodes=1), spec)
    assert {v.kind for v in gpus} == {"GPU"}

    path = tmp_path / "cpu.json"
    path.write_text(json.dumps(doc.to_json()))
    out = subprocess.run([sys.executable, "-m", "bench", "qualify", str(path), "--spec", str(SPEC)],
                         capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}).stdout
    head, rows = out.split("┡", 1)
    assert "kind" in head and "level" not in head
    assert "CPU" in rows and "GPU vm" not in rows and "CPU vm/cpu failed" in rows
