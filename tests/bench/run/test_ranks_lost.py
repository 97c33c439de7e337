"""A rank killed mid-run: rank 0 reports it lost after the timeout and writes the survivors' runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.qualify.spec import parse_spec
from bench.qualify.verdict import qualify
from bench.record import load

ARGS = ["-m", "bench", "run", "--device", "cpu", "-w", "sha256d", "--window", "0.5", "--repeats", "3",
        "--idle", "0", "--warmup", "0.1", "-q"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_killed_rank_is_lost_and_survivors_written(tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    port = _free_port()
    procs = []
    for rank in range(3):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": "3", "LOCAL_RANK": str(rank),
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "SITEBENCH_FLEET_TIMEOUT": "20"}
        procs.append(subprocess.Popen([sys.executable, *ARGS, "--out", str(out)], env=env, cwd=tmp_path,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    try:
        victim_journal = tmp_path / "fleet.json.rank2.journal.jsonl"
        deadline = time.monotonic() + 60
        while not victim_journal.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert victim_journal.exists(), "rank 2 never got past the start barrier"
        procs[2].send_signal(signal.SIGKILL)
        assert procs[0].wait(timeout=90) == 0, procs[0].stderr.read()[-2000:]
        procs[1].wait(timeout=30)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
    doc = load(out)
    assert doc.fleet.lost_ranks == [2]
    assert sorted(r.rank for r in doc.runs) == [0, 1]
    _, _, fleet = qualify(doc, parse_spec({}))
    assert "rank 2 lost (died or timed out)" in fleet.reasons and not fleet.passed
