"""A real ``sitebench miners run --power-target`` SIGKILLed once it has changed a miner's knob, then
``sitebench recover JOURNAL``: the Braiins OS+ power target and the Antminer work mode are back at their originals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.testing.antminer_web import AntminerWeb
from bench.testing.braiins_server import BraiinsServer
from bench.testing.miners import SimFleet, SimMiner

Sim = Callable[..., SimMiner]
#: A quick sweep whose settle outlasts the test: the kill always lands after the first change.
RUN = ["--period", "0.25", "--warmup", "5", "--window", "3", "--repeats", "2", "--timeout", "1", "--settle", "60"]



def kill_after_first_change(host: str, targets: str, out: Path) -> Path:
    """Start the sweep, SIGKILL it once its journal holds a knob_set line; returns the journal."""
    journal = Path(f"{out}.journal.jsonl")
    child = subprocess.Popen([sys.executable, "-m", "bench", "miners", "run", host, f"--power-target={targets}",
                              "--out", str(out), *RUN], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while '"knob_set"' not in (journal.read_text() if journal.exists() else ""):
            assert child.poll() is None, f"the sweep ended early: {child.stderr.read().decode()[-500:]}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no change journaled within 60 s"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    return journal


def recover(journal: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", "recover", str(journal), "--out", str(tmp_path / "rec.json")],
                          capture_output=True, text=True, timeout=120)


def test_braiins_power_target_back_after_a_kill(sim: Sim, password: str, tmp_path: Path) -> None:
    pytest.importorskip("grpc", reason="grpcio is the braiins extra")
    miner = sim("braiins", difficulty=64)
    with SimFleet([miner]), BraiinsServer(miner, password=password):
        journal = kill_after_first_change(miner.host, "1905,stock", tmp_path / "braiins.json")
        assert miner.target_w == 1905.0, "killed at the first point"
        done = recover(journal, tmp_path)
        assert f"miner.power_target on {miner.host}:50051: restored to 2850.0" in done.stdout + done.stderr
        assert miner.target_w == 2850.0


@pytest.mark.skipif(os.geteuid() != 0, reason="the Antminer web interface is on port 80, which needs root to serve")
def test_antminer_mode_back_after_a_kill(sim: Sim, password: str, tmp_path: Path) -> None:
    miner = sim("antminer", difficulty=64)
    with SimFleet([miner]), AntminerWeb(miner, password=password) as web:
        journal = kill_after_first_change(miner.host, "low-power,normal", tmp_path / "antminer.json")
        assert web.mode == 3, "killed in low power"
        done = recover(journal, tmp_path)
        assert f"miner.mode on {miner.host}:80: restored to 'normal'" in done.stdout + done.stderr
        assert web.mode == 0 and miner.target_w == 2850.0
