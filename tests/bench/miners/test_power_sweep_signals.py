"""Always put back: a sweep stopped by SIGTERM puts every miner back before it exits (143, the file written), and a
sweep killed by SIGKILL at any stage (the original journaled, the first point set, measuring, the next point set,
putting back) leaves a journal from which `sitebench recover` puts every miner back. The tests wait on the
journal's lines, never on time. One simulated Braiins OS+ miner and two Whatsminer API v3 miners, each held at a
target of its owner's (not stock) before the sweep. To kill while the sweep puts back, the second v3 miner to be
put back holds that write until the kill, then drops it: the sweep has put one miner back and not all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.record import load
from bench.testing.miners import SimFleet, SimMiner
from bench.testing.power_curve import PowerCurve

pytest.importorskip("grpc", reason="grpcio is the braiins extra: one of the miners here is on Braiins OS+")

from bench.testing.braiins_server import BraiinsServer  # noqa: E402 - needs grpcio

PASSWORD = "S1gn4l-pw"
S19J = PowerCurve(96.0, 2850.0)
#: Short points: a v3 counter never gives a window this short (it needs ~200 s for 1%), so each point lasts until
#: the plan's deadline (2 x warm-up + 1.5 x window + 2 polls, about 6 s): what is tested is the putting back.
RUN = ["--period", "0.2", "--warmup", "2", "--window", "1", "--repeats", "1", "--timeout", "1", "--settle", "0.3",
       "--power-target", "2000,stock"]
Lines = list[dict]  # type: ignore[type-arg]
ORIGINAL = {"127.0.28.31": 2600.0, "127.0.28.32": 2500.0, "127.0.28.33": 2400.0}
Miners = tuple[SimMiner, SimMiner, SimMiner]


@pytest.fixture
def miners() -> Iterator[Miners]:
    braiins = SimMiner("127.0.28.31", family="braiins", model="Antminer S19j Pro", chips_expected=126, curve=S19J,
                       tau_s=0.3, limit_w=ORIGINAL["127.0.28.31"], difficulty=64)
    v3 = [SimMiner(host, family="whatsminer-v3", model="Whatsminer M60 VK30", curve=S19J, tau_s=0.3,
                   limit_w=ORIGINAL[host], password=PASSWORD, difficulty=64) for host in ("127.0.28.32", "127.0.28.33")]
    with SimFleet([braiins, *v3]), BraiinsServer(braiins, password=PASSWORD):
        yield braiins, v3[0], v3[1]


class Hold:
    """Holds the second v3 write putting a miner back until :meth:`release`, then drops it (the miner went away)."""

    def __init__(self, miners: Miners) -> None:
        self.released = threading.Event()
        self.seen: list[str] = []
        self.held = False
        for m in miners[1:]:
            m.before_write = lambda request, m=m: self.write(m, request)

    def write(self, miner: SimMiner, request: dict[str, Any]) -> dict[str, Any] | None:
        if request.get("param") != ORIGINAL[miner.host] or self.held:
            return None
        self.seen.append(miner.host)
        if len(self.seen) < 2:
            return None
        self.held = True
        self.released.wait(timeout=60)  # the simulated miners' loop waits here: the test releases it after the kill
        return {"code": -1, "when": 1700000000, "desc": request.get("cmd"), "msg": "the miner went away"}

    def release(self) -> None:
        self.released.set()


def env() -> dict[str, str]:
    return {**os.environ, "SITEBENCH_MINER_PASSWORD": PASSWORD}


def start(out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench", "miners", "run", *ORIGINAL, *RUN, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())


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
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def of(lines: Lines, kind: str) -> Lines:
    return [x for x in lines if x.get("type") == kind]


#: Each stage of a sweep, as the journal shows it.
STAGES: dict[str, Callable[[Lines], bool]] = {
    "original journaled": lambda lines: bool(of(lines, "knob")),
    "first point set": lambda lines: len(of(lines, "knob_set")) >= 2,
    "measuring": lambda lines: any(x.get("point") == 0 for x in of(lines, "poll")),
    "next point set": lambda lines: len(of(lines, "knob_set")) >= 4,
    "putting back": lambda lines: bool(of(lines, "knob_restored")),
}


def test_sigterm_mid_sweep_puts_every_miner_back_and_writes_the_file(tmp_path: Path, miners: Miners) -> None:
    out = tmp_path / "m.json"
    proc = start(out)
    lines = wait_for(Path(f"{out}.journal.jsonl"), proc, lambda lines: any(x.get("point") == 1 for x in of(lines, "poll")),
                     "the second point measuring")
    assert {x["value"] for x in of(lines, "knob_set")} == {2000.0, 2850.0} and len(of(lines, "knob")) == 3
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Traceback" not in err and "interrupted" in err, err
    assert {m.host: m.target_w for m in miners} == ORIGINAL, "every miner back at its original target"
    doc = load(out)
    settings = [(r.device, r.setting.requested if r.setting else None, r.status) for r in doc.runs]
    assert ("asic:127.0.28.31", 2000.0, "ok") in settings, settings
    assert [s for s in settings if s[1] == 2850.0 and s[2] == "interrupted"], settings
    assert not Path(f"{out}.journal.jsonl").exists() and PASSWORD not in out.read_text() + err


@pytest.mark.parametrize("stage", list(STAGES))
def test_sigkill_at_any_stage_then_recover_puts_every_miner_back(stage: str, tmp_path: Path, miners: Miners) -> None:
    out = tmp_path / "m.json"
    journal = Path(f"{out}.journal.jsonl")
    hold = Hold(miners) if stage == "putting back" else None
    proc = start(out)
    try:
        at_stage = STAGES[stage]
        # putting back: the first miner's restore is journaled and the second's write is held (an event, not a line)
        lines = wait_for(journal, proc, (lambda ls: hold.held and at_stage(ls)) if hold is not None else at_stage, stage)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if hold is not None:
            hold.release()
    if hold is not None:
        assert hold.held and len(of(lines, "knob_restored")) < 3, "killed with a miner put back and one not"
    r = subprocess.run([sys.executable, "-m", "bench", "recover", str(journal)], capture_output=True, text=True,
                       timeout=120, env=env())
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert {m.host: m.target_w for m in miners} == ORIGINAL, f"{stage}: every miner back at its original target"
    assert PASSWORD not in journal.read_text() + r.stdout + r.stderr
    runs = load(out).runs
    if stage in ("measuring", "next point set", "putting back"):  # the first point's runs, recorded or rebuilt
        first = [x for x in runs if x.setting is not None and x.setting.requested == 2000.0]
        assert {x.device for x in first} == {f"asic:{h}" for h in ORIGINAL}, [(x.device, x.setting) for x in runs]
        assert all(x.setting.original == ORIGINAL[x.device[5:]] for x in first if x.setting is not None)
