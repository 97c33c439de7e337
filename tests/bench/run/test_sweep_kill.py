"""Always put back: a real ``sitebench run --power-limit`` against a fake powercap tree (two packages, writable
constraints), killed with SIGKILL at every stage of the sweep and then recovered, stopped by SIGTERM, SIGINT and
SIGHUP, and refused for bad input. Every constraint file must end at its original value; the tests wait on the
journal's lines, never on time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.record import load

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="changing a powercap limit needs root (as CI runs)")

#: package zone -> its limit before the run (µW)
ORIGINAL = {"intel-rapl:0": 100_000_000, "intel-rapl:1": 105_000_000}
LIMIT = "constraint_0_power_limit_uw"
Lines = list[dict[str, Any]]


def make_tree(root: Path) -> Path:
    """Two RAPL package zones, 20-150 W, PL1 as constraint 0."""
    for zone, uw in ORIGINAL.items():
        d = root / zone
        d.mkdir(parents=True)
        for name, text in (("name", f"package-{zone[-1]}"), (LIMIT, str(uw)), ("constraint_0_name", "long_term"),
                           ("constraint_0_max_power_uw", "150000000"), ("constraint_0_min_power_uw", "20000000"),
                           ("enabled", "1"), ("energy_uj", "0"), ("max_energy_range_uj", "262143328850")):
            (d / name).write_text(text + "\n")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "powercap")


def limits(root: Path) -> dict[str, int]:
    return {zone: int((root / zone / LIMIT).read_text()) for zone in ORIGINAL}


def _env(root: Path) -> dict[str, str]:
    return dict(os.environ, SITEBENCH_POWERCAP_ROOT=str(root), SITEBENCH_CPU_TDP_W="100")


def _run_args(out: Path, points: str, settle: float, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bench", "run", "-w", "sha256", "--idle", "0", "--warmup", "0", "--window", "0.3",
            "--repeats", "2", "--quiet", "--meter", "model", "--power-limit", points, "--settle", str(settle),
            "--out", str(out), *extra]


def start(root: Path, out: Path, points: str = "60,80,120", settle: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(_run_args(out, points, settle), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(root))


def journal_lines(journal: Path) -> Lines:
    out = []
    for line in journal.read_text().splitlines() if journal.exists() else []:
        try:
            out.append(json.loads(line))
        except ValueError:
            pass  # a line being written
    return out


def wait_for(journal: Path, proc: subprocess.Popen[str], pred: Callable[[Lines], bool], what: str) -> Lines:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        lines = journal_lines(journal)
        if pred(lines):
            return lines
        assert proc.poll() is None, f"run ended before {what}: {proc.communicate()[1][-2000:]}"
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def count(kind: str, n: int = 1) -> Callable[[Lines], bool]:
    return lambda lines: sum(x.get("type") == kind for x in lines) >= n


def recover(root: Path, journal: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", "recover", str(journal)], capture_output=True, text=True,
                          env=_env(root), timeout=120)


def pending_labels(lines: Lines) -> set[str]:
    changed = {x["label"] for x in lines if x.get("type") == "knob"}
    return changed - {x["label"] for x in lines if x.get("type") == "knob_restored"}


def as_sysfs(root: Path, lines: Lines) -> None:
    """Make the fake tree hold what sysfs would after the kill.

    Writing a limit truncates a regular file before writing it; sysfs ignores the truncation and takes the
    write whole. A kill between the two leaves the fake file empty, which a real zone never is: it still
    holds the limit set before (the last read back the journal has for it, else its original).
    """
    for zone, original in ORIGINAL.items():
        path = root / zone / LIMIT
        if path.read_text().strip():
            continue
        label = f"cpu.package_limit on {zone}"
        sets = [round(x["read_back"] * 1e6) for x in lines if x.get("type") == "knob_set" and x.get("label") == label]
        path.write_text(f"{sets[-1] if sets else original}\n")


#: stage -> (what the journal shows when the kill is sent, the points, the settle time)
STAGES: dict[str, tuple[Callable[[Lines], bool], str, float]] = {
    "before the first set": (count("header"), "60,80", 0.0),
    "original journaled": (count("knob"), "60,80", 0.0),
    "set, settling": (count("knob_set", 2), "60,80", 600.0),
    "mid-windows of point 1": (count("window"), "60,80", 0.0),
    "between points": (count("run"), "60,80,120", 0.0),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_sigkill_at_any_stage_then_recover_puts_every_knob_back(tree: Path, tmp_path: Path, stage: str) -> None:
    pred, points, settle = STAGES[stage]
    out = tmp_path / "r.json"
    journal = Path(f"{out}.journal.jsonl")
    proc = start(tree, out, points, settle)
    wait_for(journal, proc, pred, stage)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    lines = journal_lines(journal)
    as_sysfs(tree, lines)
    left = pending_labels(lines)
    if stage in ("set, settling", "mid-windows of point 1", "between points"):
        assert left == {"cpu.package_limit on intel-rapl:0", "cpu.package_limit on intel-rapl:1"}
        assert limits(tree) != ORIGINAL, "the kill left the machine changed"
    r = recover(tree, journal)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert limits(tree) == ORIGINAL
    restored = {line.removeprefix("restored: ").split(": restored to")[0] for line in r.stdout.splitlines()
                if line.startswith("restored: ")}
    assert restored == left, r.stdout
    doc = load(next(tmp_path.glob("r*.json")))
    if stage == "mid-windows of point 1":
        run = doc.runs[0]
        assert run.status == "interrupted" and run.setting is not None and run.setting.requested == 60.0, \
            "the run rebuilt from its windows keeps its point's setting"
    again = recover(tree, journal)  # a second recover is harmless: the same originals again
    assert again.returncode == 0 and limits(tree) == ORIGINAL


def test_sigkill_while_restoring_then_recover_puts_back_the_rest(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    journal = Path(f"{out}.journal.jsonl")
    proc = start(tree, out, "60", settle=600.0)
    wait_for(journal, proc, count("knob_set", 2), "point 1 set")
    # intel-rapl:0 is put back last (the reverse order of first change): its file becomes a FIFO, whose opening
    # for the write blocks, so the run is held in the middle of restoring, intel-rapl:1 done, intel-rapl:0 not
    limit = tree / "intel-rapl:0" / LIMIT
    limit.unlink()
    os.mkfifo(limit)
    proc.send_signal(signal.SIGTERM)
    lines = wait_for(journal, proc, count("knob_restored"), "intel-rapl:1 put back")
    assert [x["label"] for x in lines if x.get("type") == "knob_restored"] == ["cpu.package_limit on intel-rapl:1"]
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    limit.unlink()
    limit.write_text("60000000\n")  # what the zone held: the point's limit
    r = recover(tree, journal)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[0] == "restored: cpu.package_limit on intel-rapl:0: restored to 100.0"
    assert "intel-rapl:1" not in r.stdout, "a knob the run put back is left alone"
    assert limits(tree) == ORIGINAL


def test_a_knob_that_cannot_be_put_back_keeps_the_journal_and_fails_the_run(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    journal = Path(f"{out}.journal.jsonl")
    proc = start(tree, out, "60", settle=600.0)
    wait_for(journal, proc, count("knob_set", 2), "point 1 set")
    zone = tree / "intel-rapl:0"
    zone.rename(tree / "gone")  # the zone vanishes while the run settles
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "NOT RESTORED: cpu.package_limit on intel-rapl:0" in stderr and "Traceback" not in stderr
    assert journal.exists() and f"sitebench recover {journal}" in stderr
    assert limits_of(tree, "intel-rapl:1") == ORIGINAL["intel-rapl:1"]
    r = recover(tree, journal)
    assert r.returncode == 1
    assert "NOT RESTORED: cpu.package_limit on intel-rapl:0: could not restore 100.0" in r.stderr
    assert str(zone) in r.stderr, "the device it could not reach is named"
    (tree / "gone").rename(zone)
    r = recover(tree, journal)
    assert r.returncode == 0, r.stderr
    assert limits(tree) == ORIGINAL


def limits_of(root: Path, zone: str) -> int:
    return int((root / zone / LIMIT).read_text())


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)])
def test_a_stop_signal_mid_sweep_puts_every_knob_back_and_writes_the_file(tree: Path, tmp_path: Path,
                                                                          signum: int, code: int) -> None:
    out = tmp_path / "r.json"
    journal = Path(f"{out}.journal.jsonl")
    proc = start(tree, out, "60,80")
    wait_for(journal, proc, count("window"), "a window of point 1")
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert limits(tree) == ORIGINAL
    assert "cpu.package_limit on intel-rapl:0: restored to 100 W" in stderr
    doc = load(out)
    assert doc.runs[-1].status == "interrupted" and all(r.setting is not None for r in doc.runs)
    assert not journal.exists()


def test_a_second_sigterm_while_restoring_cannot_skip_it(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    journal = Path(f"{out}.journal.jsonl")
    proc = start(tree, out, "60,80", settle=600.0)
    wait_for(journal, proc, count("knob_set", 2), "point 1 set")
    limit = tree / "intel-rapl:0" / LIMIT
    limit.unlink()
    os.mkfifo(limit)  # holds the run in the middle of restoring, as in the SIGKILL case above
    proc.send_signal(signal.SIGTERM)
    wait_for(journal, proc, count("knob_restored"), "intel-rapl:1 put back")
    proc.send_signal(signal.SIGTERM)  # a scheduler that insists, while the knobs are being put back
    with open(limit) as fifo:  # lets the held write through: what the run writes is what it restores
        written = fifo.read()
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert written == "100000000\n", "the restore went on after the second signal"
    assert "signal noted" in stderr and "Traceback" not in stderr
    assert "cpu.package_limit on intel-rapl:0: restored to 100 W" in stderr
    assert not journal.exists() and load(out).runs[0].status == "interrupted"


def test_a_full_sweep_puts_back_at_the_end_and_each_point_is_a_run(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = subprocess.run(_run_args(out, "60:100:40,max", 0.0), capture_output=True, text=True, env=_env(tree),
                       timeout=240)
    assert r.returncode == 0, r.stderr
    assert limits(tree) == ORIGINAL
    doc = load(out)
    settings = [run.setting for run in doc.runs]
    assert [(s.requested, s.read_back, s.limit_w) for s in settings if s] == [
        (60.0, 60.0, 120.0), (100.0, 100.0, 200.0), (150.0, 150.0, 300.0)]
    assert all(s is not None and s.original == 100.0 and not s.over_limit for s in settings)
    assert "sha256 @60 W" in r.stdout and "sha256 @150 W" in r.stdout
    shown = subprocess.run([sys.executable, "-m", "bench", "show", str(out)], capture_output=True, text=True,
                           env=_env(tree), timeout=120)
    assert shown.returncode == 0 and "sha256 @100 W" in shown.stdout, shown.stderr


@pytest.mark.parametrize("points, says", [
    ("60,200", "200 W is outside the device's own range (20-150 W)"),
    ("60,turbo", "'turbo' is not a number of W"),
    ("10:60:10", "10 W is outside the device's own range"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(tree: Path, tmp_path: Path, points: str,
                                                          says: str) -> None:
    out = tmp_path / "r.json"
    r = subprocess.run(_run_args(out, points, 0.0), capture_output=True, text=True, env=_env(tree), timeout=120)
    assert r.returncode == 2, r.stderr
    assert says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert limits(tree) == ORIGINAL and not out.exists() and not Path(f"{out}.journal.jsonl").exists()
