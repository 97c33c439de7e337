"""A shard killed with SIGKILL comes back as a shard: `sitebench recover` writes its samples again from the journal
(the Parquet file the run was writing has no footer, and is removed), gives the result its shard block, and the
recovered shard validates and merges with the shard that ran to its end. The test waits on the journal's lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.miners.fleet.recovery import shard_info
from bench.miners.measure.journal import identity_from, sample_from
from bench.miners.measure.outcome import Plan, analyse
from bench.record import load, samples
from bench.testing.miners import SimFleet, SimMiner
from bench.validation import validate_file
from tests.bench.miners.helpers import RUN, cli

HOSTS = [f"127.0.27.{i}" for i in range(40, 44)]
Lines = list[dict]  # type: ignore[type-arg]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SITEBENCH_"))
            and k != "JOB_COMPLETION_INDEX"}


def _lines(journal: Path) -> Lines:
    out = []
    for raw in journal.read_text().splitlines() if journal.exists() else []:
        try:
            out.append(json.loads(raw))
        except ValueError:
            pass  # a line being written
    return out


def _wait(journal: Path, proc: subprocess.Popen[str], pred: Callable[[Lines], bool], what: str) -> Lines:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        lines = _lines(journal)
        if pred(lines):
            return lines
        assert proc.poll() is None, f"ended before {what}: {proc.communicate()[1][-2000:]}"
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _every_miner_has_a_window(lines: Lines) -> bool:
    head = next((x for x in lines if x.get("type") == "miners"), None)
    if head is None:
        return False
    plan = Plan(**head["plan"])
    for identity in map(identity_from, head["miners"]):
        polls = [sample_from(x["sample"], identity) for x in lines
                 if x.get("type") == "poll" and x["miner"] == identity.address]
        if not polls or not analyse(identity, polls, plan).valid_windows:
            return False
    return True


def test_a_shard_killed_mid_run_is_recovered_as_a_shard_that_validates_and_merges(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("\n".join(HOSTS) + "\n")
    outs = [tmp_path / f"shard-{k}.json" for k in range(2)]
    run = [sys.executable, "-m", "bench", "miners", "run", "--hosts", str(hosts), *RUN, "--run-id", "kill-27"]
    with SimFleet([SimMiner(h, difficulty=64, seed=i) for i, h in enumerate(HOSTS)]):
        procs = [subprocess.Popen([*run, "--shard", f"{k}/2", "--out", str(out)], env=_env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for k, out in enumerate(outs)]
        journal = Path(f"{outs[0]}.journal.jsonl")
        lines = _wait(journal, procs[0], _every_miner_has_a_window, "a window of each miner of shard 0")
        procs[0].send_signal(signal.SIGKILL)
        procs[0].communicate(timeout=60)
        _, err = procs[1].communicate(timeout=300)
    assert procs[1].returncode == 0, err[-3000:]
    assert not outs[0].exists() and not outs[0].with_suffix(".parquet").exists()
    cut = list(tmp_path.glob(".shard-0.parquet.*.tmp"))
    assert len(cut) == 1, "the samples file the killed run was writing, never closed"
    try:
        samples.rows(cut[0])
        raise AssertionError("a Parquet file cut by a kill has no footer: it cannot be read")
    except ValueError:
        pass
    (line,) = [x for x in lines if x.get("type") == "shard"]
    assert shard_info(line).run_id == "kill-27"

    r = subprocess.run([sys.executable, "-m", "bench", "recover", str(journal)], capture_output=True, text=True,
                       timeout=120, env=_env())
    assert r.returncode == 0, r.stderr
    assert "shard 0/2 of run kill-27: samples shard-0.parquet" in r.stdout, r.stdout
    assert not list(tmp_path.glob(".shard-0.parquet.*.tmp")), "the cut file is removed"
    doc = load(outs[0])
    info = doc.shard
    assert info is not None and (info.k, info.n, info.run_id) == (0, 2, "kill-27")
    assert info.samples.file == "shard-0.parquet" and info.samples.rows == samples.rows(outs[0].with_suffix(".parquet"))
    polled = sum(x.get("type") == "poll" for x in _lines(journal))
    assert info.samples.rows == polled, "every whole poll line of the journal is a row"
    assert len(doc.runs) == 2 and all(r.metrics.get("recovered") and r.throughput.units for r in doc.runs)
    assert all(not m.trace for r in doc.runs for m in r.power.meters), "the series are in the samples"
    found = validate_file(outs[0]).findings
    assert found == [], [f.line(str(outs[0])) for f in found]

    fleet = tmp_path / "fleet.json"
    code, stdout, err = cli("merge", *map(str, outs), "--out", str(fleet))
    assert code == 0, err
    block = load(fleet).miners_fleet
    assert block is not None and block.complete and block.totals.miners == len(HOSTS)
    assert validate_file(fleet).findings == []
