"""`sitebench baseline save|check` through the CLI: fallback to default.json, regression exits 1."""

import json
import subprocess
import sys
from pathlib import Path


def _bench(path: Path, scale: float) -> Path:
    times = [0.010, 0.011, 0.0105, 0.0102, 0.0108, 0.0101, 0.0104, 0.0107]
    path.write_text(json.dumps({"benchmarks": [{"group": "sleepy", "name": "t",
        "extra_info": {"workload": "sleepy", "device": "cpu", "params": {}, "unit": "step",
                       "units_per_round": 1.0}, "stats": {"data": [t * scale for t in times]}}]}))
    return path


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import sys; from bench.cli import main; sys.exit(main())", "baseline", *args],
                          capture_output=True, text=True)


def test_save_then_check(tmp_path: Path) -> None:
    d = str(tmp_path / "bl")
    assert _cli("save", str(_bench(tmp_path / "a.json", 1.0)), "--dir", d, "--name", "default").returncode == 0
    ok = _cli("check", str(_bench(tmp_path / "b.json", 1.0)), "--dir", d)
    assert ok.returncode == 0 and "using" in ok.stdout and "default.json" in ok.stdout
    bad = _cli("check", str(_bench(tmp_path / "c.json", 1.5)), "--dir", d)
    assert bad.returncode == 1 and "regression" in bad.stderr
    assert _cli("check", str(tmp_path / "c.json"), "--dir", d, "--report-only").returncode == 0
