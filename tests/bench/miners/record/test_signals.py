"""Nothing measured of a miner is lost: SIGTERM mid-run writes the file (exit 143), SIGKILL leaves a journal
that `sitebench recover` rebuilds into a valid file. The tests wait on the journal's lines, not on time."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.miners.measure.journal import identity_from, sample_from
from bench.miners.measure.outcome import Plan, analyse
from bench.record import load
from bench.testing.miners import SimFleet, SimMiner
from bench.validation import validate_file

RUN = ["--period", "0.2", "--warmup", "5", "--window", "2", "--repeats", "3", "--timeout", "1"]
Lines = list[dict]  # type: ignore[type-arg]


def start(out: Path, *hosts: str, extra: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench", "miners", "run", *hosts, *RUN, *extra, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(journal: Path, proc: subprocess.Popen[str], pred: Callable[[Lines], bool], what: str) -> Lines:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        lines = []
        for raw in journal.read_text().splitlines() if journal.exists() else []:
            try:
                lines.append(json.loads(raw))
            except ValueError:
                pass  # a line being written
        if pred(lines):
            return lines
        assert proc.poll() is None, f"ended before {what}: {proc.communicate()[1][-2000:]}"
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def windows(lines: Lines, miner: str) -> int:
    """Valid windows of ``miner`` in the journal so far, by the analysis a live run (and recover) makes."""
    head = next((x for x in lines if x.get("type") == "miners"), None)
    if head is None:
        return 0
    identity = next(i for i in map(identity_from, head["miners"]) if i.address == miner)
    samples = [sample_from(x["sample"], identity) for x in lines if x.get("type") == "poll" and x["miner"] == miner]
    return len(analyse(identity, samples, Plan(**head["plan"])).valid_windows) if samples else 0


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stop_signal_mid_run_writes_the_file(tmp_path: Path, signum: int, code: int) -> None:
    miners = [SimMiner("127.0.0.111", difficulty=64),
              SimMiner("127.0.0.112", family="whatsminer", model="Whatsminer M50.VH50", hashrate_ths=105.0,
                       difficulty=64, ramp_s=600.0)]
    out = tmp_path / "m.json"
    with SimFleet(miners):
        # the steady miner has its first window (warm-up by the slope test ~2 s, then 2 s); the ramping one is a
        # Whatsminer whose firmware says "Hash Stable": false for the 600 s of its ramp, and a warm-up limit as long
        # keeps it from being measured however long a loaded machine stretches the wait (a 30 s ramp judged by
        # the slope test ended first under load, and it was measured)
        proc = start(out, "127.0.0.111", "127.0.0.112", extra=("--warmup", "600"))
        wait_for(Path(f"{out}.journal.jsonl"), proc, lambda lines: windows(lines, "127.0.0.111:4028") >= 1,
                 "a window of the steady miner")
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == code and "Traceback" not in err and "interrupted" in err, err
    steady, ramping = load(out).runs
    assert steady.status == "interrupted" and steady.throughput.units, "the windows measured before the signal"
    assert steady.throughput.rate == pytest.approx(110e12, rel=0.01)
    assert ramping.status == "interrupted" and not ramping.throughput.units and "warm-up" in (ramping.error or "")
    assert validate_file(out).findings == [] and not Path(f"{out}.journal.jsonl").exists()


def test_sigkill_then_recover_rebuilds_every_miner_from_its_polls(tmp_path: Path) -> None:
    miners = [SimMiner("127.0.0.113", difficulty=64), SimMiner("127.0.0.114", family="whatsminer",
                                                                 model="Whatsminer M50.VH50", difficulty=64)]
    out = tmp_path / "m.json"
    journal = Path(f"{out}.journal.jsonl")
    with SimFleet(miners):
        proc = start(out, "127.0.0.113", "127.0.0.114")
        wait_for(journal, proc, lambda lines: windows(lines, "127.0.0.113:4028") >= 1
                 and windows(lines, "127.0.0.114:4028") >= 1, "a window of each miner")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert not out.exists()
    r = subprocess.run([sys.executable, "-m", "bench", "recover", str(journal)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "2 run(s)" in r.stdout, r.stderr
    doc = load(out)
    stock, whats = doc.runs
    assert [stock.device, whats.device] == ["asic:127.0.0.113", "asic:127.0.0.114"]
    for run in doc.runs:
        assert run.status == "interrupted" and run.throughput.units and run.metrics["recovered"]
        assert run.throughput.rate == pytest.approx(110e12, rel=0.01) and run.hardware is not None
    assert whats.power.primary[0].method == "firmware_estimate" and stock.power.modelled
    assert validate_file(out).findings == [] and journal.exists(), "recover never deletes the journal"
