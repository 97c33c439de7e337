"""``serve --soak``: the fake server soaked for seconds in half-second windows, steady and slowing down (its
inter-token latency growing while the soak runs), end to end with the result file validated; the windows'
boundaries on the soak's grid; bad input in one line, exit 2."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bench.cli import main
from bench.record import load
from bench.serve.measure.slices import grid_boundaries
from bench.testing.openai_server import Behaviour, ServerThread
from bench.validation import validate_file

SMALL = ["--dataset", "random:in=8,out=6", "--num-prompts", "24"]
METER = "metric=DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION,period=0.05"


def serve(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["serve", *args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_a_steady_server_soaks_in_windows_and_the_file_validates(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.json"
    with ServerThread(Behaviour(ttft=0.005, itl=0.002, watts=[250.0])) as server:
        rc, stdout, err = serve(capsys, "--base-url", server.url, *SMALL, "--max-concurrency", "4", "--warmup", "40",
                                "--soak", "3s", "--window", "0.5", "--meter", f"prometheus:{server.url}/metrics,{METER}",
                                "--out", str(out))
    assert rc == 0, err
    (run,) = load(out).runs
    s = run.soak
    assert s is not None and (s.requested_s, s.window_s, s.planned_windows, s.windows) == (3.0, 0.5, 6, 6)
    assert run.metrics["completed"] > 24  # the 24 prompts went out over and over
    assert all(d == pytest.approx(0.5, abs=0.2) for d in run.throughput.durations_s[:-1])
    assert s.throughput is not None and s.efficiency is not None
    assert "soak: serve on endpoint:" in stdout and "6 windows" in stdout
    found = validate_file(out).findings
    assert [f for f in found if f.level == "error"] == [], [f.line(str(out)) for f in found]


def test_a_server_slowing_down_is_reported_drifting_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.json"
    behaviour = Behaviour(ttft=0.002, itl=0.002)
    done = threading.Event()

    def slow_down() -> None:  # the inter-token latency grows fourfold over the soak: tokens/s falls by 3/4
        t0 = time.monotonic()
        while not done.wait(0.02):
            behaviour.itl = 0.002 * (1 + 3 * min((time.monotonic() - t0) / 4.0, 1.0))

    with ServerThread(behaviour) as server:
        thread = threading.Thread(target=slow_down, daemon=True)
        thread.start()
        try:
            rc, _, err = serve(capsys, "--base-url", server.url, *SMALL, "--max-concurrency", "4", "--soak", "3s",
                               "--window", "0.5", "--drift-threshold", "5", "--out", str(out))
        finally:
            done.set()
            thread.join()
    assert rc == 0, err
    s = load(out).runs[0].soak
    assert s is not None and s.throughput is not None and s.threshold == 0.05
    assert s.throughput.per_hour < -10  # over -1000 %/h: the rate falls by more than half in seconds
    assert s.throughput.verdict == "drifting" and s.verdict == "drifting"


def test_the_soaks_windows_are_the_first_ticks_of_its_grid() -> None:
    ticks = [(f"tick-{k}", 0.5 * (k + 1)) for k in range(7)]
    got = grid_boundaries(("s", 0.0), ("e", 3.01), ticks, 6)
    assert [t for _, t in got] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.01]  # the tick at 3.0 is left: no sliver slice
    assert grid_boundaries(("s", 0.0), ("e", 1.2), ticks, 6) == [("s", 0.0), *ticks[:2], ("e", 1.2)]


@pytest.mark.parametrize(("args", "says"), [
    (["--soak", "60s"], "--soak with --request-rate inf needs --max-concurrency"),
    (["--window", "1"], "--window: only with --soak"),
    (["--soak", "0.2s", "--window", "0.5", "--max-concurrency", "2"], "--soak 0.2s: shorter than one window"),
    (["--soak", "-1", "--max-concurrency", "2"], "--soak -1: must be a positive duration"),
    (["--soak", "abc", "--max-concurrency", "2"], "--soak 'abc': not a duration"),
])
def test_bad_soak_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                           says: str) -> None:
    out = tmp_path / "s.json"
    rc, _, err = serve(capsys, "--base-url", "http://127.0.0.1:9", *args, "--out", str(out))
    assert rc == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()
