"""End to end through pytest itself: a third-party workload that sleeps, benchmarked by the
plugin, fails the baseline gate when it sleeps longer and passes when unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.measure.runrecord  # noqa: F401

# imported here, once: in-process pytester runs drop modules they imported, and numpy cannot load twice
import bench.power.discovery  # noqa: F401
import bench.registry  # noqa: F401
from bench.benchmarking.convert import to_result
from bench.benchmarking.gate import gate
from bench.cli import main

pytest_plugins = ["pytester"]

NAP = '''
import os, time
from bench.workload import Workload

class Nap(Workload):
    name = "nap"
    unit = "nap"
    presets = {"ci": {"n": 1}, "full": {"n": 1}}

    def setup(self, device, params): self.s = float(os.environ["NAP_S"])
    def verify(self): pass
    def step(self):
        time.sleep(self.s)
        return 1
'''

CONFTEST = '''
# skip the slow cpuinfo / git probes; the gate needs neither
def pytest_benchmark_generate_machine_info(config): return {"node": "test"}
def pytest_benchmark_generate_commit_info(config): return {}
'''

TEST = '''
from bench.benchmarking.plugin import run_case

def test_workload(benchmark, sitebench_case):
    run_case(benchmark, *sitebench_case, min_round_s=0)  # as the README's recipe: rounds and power from options
'''


@pytest.fixture
def nap_project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A tmp project whose `nap` workload registers through the sitebench.workloads entry point."""
    pytester.makepyfile(nap_wl=NAP)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_bm=TEST)
    pytester.syspathinsert()
    info = pytester.path / "nap_wl-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nap-wl\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[sitebench.workloads]\nnap = nap_wl:Nap\n")
    return pytester


def _bench(project: pytest.Pytester, env: pytest.MonkeyPatch, nap_s: float, out: str) -> dict:
    env.setenv("NAP_S", str(nap_s))
    # no "-p": the plugin registers itself through the installed package's pytest11 entry point
    r = project.runpytest_inprocess("--benchmark-only",
                                    "--sitebench-workload", "nap", "--sitebench-device", "cpu",
                                    "--sitebench-rounds", "6", "--sitebench-no-power",
                                    f"--benchmark-json={out}", "-p", "no:cacheprovider")
    r.assert_outcomes(passed=1)
    doc = json.loads(Path(project.path / out).read_text())
    (b,) = doc["benchmarks"]
    assert b["extra_info"]["workload"] == "nap" and b["extra_info"]["units_per_round"] == 1
    run = b["extra_info"]["sitebench_run"]
    assert run["throughput"]["units"] == [1.0] * 6 and not run["power"]["measured"], "the options reached run_case"
    return doc


def test_slowed_workload_fails_and_unchanged_passes(nap_project: pytest.Pytester,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # a busy machine's runs are shown, not judged; a nap's speed does not depend on the machine's load
    monkeypatch.setattr("bench.record.run.CONTENDED_OTHERS", 1.01)
    monkeypatch.setattr("bench.record.run.CONTENDED_STEAL", 1.01)
    # naps long enough that a loaded machine's sleep overshoot (milliseconds) cannot move them by 25%
    base = to_result(_bench(nap_project, monkeypatch, 0.05, "base.json"))
    same_ok, _ = gate(base, _bench(nap_project, monkeypatch, 0.05, "same.json"), threshold=0.25)
    slow_ok, comps = gate(base, _bench(nap_project, monkeypatch, 0.25, "slow.json"), threshold=0.25)
    assert same_ok
    assert not slow_ok and comps[0].regression and comps[0].change < -0.5
    # the same verdicts through `sitebench baseline save|check`
    d, run = str(nap_project.path / "baselines"), nap_project.path
    assert main(["baseline", "save", str(run / "base.json"), "--dir", d, "--name", "default"]) == 0
    assert main(["baseline", "check", str(run / "same.json"), "--dir", d, "--threshold", "25"]) == 0
    assert main(["baseline", "check", str(run / "slow.json"), "--dir", d, "--threshold", "25"]) == 1


def test_a_downstream_projects_plain_pytest_skips_the_benchmarks(nap_project: pytest.Pytester,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAP_S", "0.01")
    r = nap_project.runpytest_inprocess("--sitebench-workload", "nap", "--sitebench-device", "cpu",
                                        "-p", "no:cacheprovider")
    r.assert_outcomes(skipped=1)
