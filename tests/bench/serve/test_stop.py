"""`sitebench serve` stopped by a signal keeps its measurement; killed, `sitebench recover` rebuilds it from the journal.

The command runs in a child process against the fake server in this one; the tests wait for the
events they act on (lines in the journal), never for a time.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cli import main
from bench.record import load
from bench.testing.openai_server import Behaviour, FakeServer, ServerThread

EVENT_TIMEOUT_S = 120.0


@pytest.fixture
def slow() -> Iterator[FakeServer]:
    """A token every 10 ms: the load lasts long enough to be stopped in the middle."""
    with ServerThread(Behaviour(ttft=0.01, itl=0.01)) as server:
        yield server


def start(url: str, out: Path, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench", "serve", "--base-url", url, "--dataset", "random:in=8,out=20",
               "--meter", "model", "--quiet", "--out", str(out), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_line(path: Path, proc: subprocess.Popen[bytes], *needles: str) -> None:
    """Wait until the journal at ``path`` holds a line containing every one of ``needles``."""
    deadline = time.monotonic() + EVENT_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sitebench serve exited {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        if path.exists() and any(all(n in line for n in needles) for line in path.read_text().splitlines()):
            return
        time.sleep(0.02)
    raise AssertionError(f"no journal line with {needles} in {EVENT_TIMEOUT_S:g} s")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stop_signal_writes_the_file_with_the_point_interrupted(slow: FakeServer, tmp_path: Path,
                                                                 signum: signal.Signals) -> None:
    out = tmp_path / "r.json"
    proc = start(slow.url, out, "--num-prompts", "400", "--max-concurrency", "4")
    # well inside the steady window (ticks 10 ms apart for 0.4 s, then elapsed / 40): requests have completed
    wait_for_line(tmp_path / "r.json.journal.jsonl", proc, '"marker"', "tick-60")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=EVENT_TIMEOUT_S)
    assert proc.returncode == 128 + signum, err.decode()
    assert b"interrupted" in err and b"Traceback" not in err
    assert not (tmp_path / "r.json.journal.jsonl").exists()
    [run] = load(out).runs
    assert run.status == "interrupted" and run.error == "interrupted (stop signal)" and run.windows
    assert sum(run.throughput.units) > 0 and not run.power.valid_for_sizing
    assert any(r.startswith("interrupted") for r in run.power.invalid_reasons)
    mt = run.metrics
    assert mt["completed"] + mt["failed"] == 400 and mt["failures.interrupted"] > 0  # every request accounted for
    assert main(["validate", str(out)]) == 0


def test_recover_rebuilds_a_killed_sweep_from_its_journal(slow: FakeServer, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    journal = tmp_path / "r.json.journal.jsonl"
    proc = start(slow.url, out, "--num-prompts", "80", "--max-concurrency", "40,4")
    wait_for_line(journal, proc, '"run-start"', "concurrency=4")  # the first point's run line came before
    wait_for_line(journal, proc, '"marker"', "concurrency=4/tick-2")
    proc.kill()
    proc.wait(timeout=EVENT_TIMEOUT_S)
    assert not out.exists() and journal.exists()
    assert main(["recover", str(journal)]) == 0
    assert "2 run(s) (serve ok, serve interrupted)" in capsys.readouterr().out
    first, second = load(out).runs
    assert first.params["max_concurrency"] == 40 and first.ok and first.windows and first.metrics["completed"] == 80
    assert second.params["max_concurrency"] == 4 and second.status == "interrupted"
    assert second.hardware is not None and second.hardware.kind == "endpoint" and second.device == first.device
    assert main(["validate", str(out)]) == 0
    lines = [json.loads(x) for x in journal.read_text().splitlines() if x.strip()]
    assert [x["type"] for x in lines if x["type"] in ("run-start", "run")] == ["run-start", "run", "run-start"]
