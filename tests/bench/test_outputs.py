"""--out never replaces an existing file without --force, never writes into shipped data; builtin: names validate."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.builtin import DATA
from bench.errors import UsageError
from bench.record import check_writable, load
from tests.bench.test_cli import assert_one_line_error, sitebench

DECLARE = ["declare", "--model", "Test Miner", "--workload", "sha256d", "--throughput", "1e14", "--power-w", "3000"]


def test_check_writable_refuses_an_existing_file_unless_replacing(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    check_writable(target)
    target.write_text("{}")
    with pytest.raises(UsageError, match="exists.*--force"):
        check_writable(target)
    check_writable(target, replace=True)


def test_check_writable_refuses_the_shipped_data_even_with_force() -> None:
    shipped = DATA / "declared" / "bitmain-antminer-s21-pro.json"
    for target in (shipped, DATA / "declared" / "new.json"):
        with pytest.raises(UsageError, match="shipped with sitebench"):
            check_writable(target, replace=True)


def test_declare_twice_to_one_file_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    assert sitebench(*DECLARE, "--out", str(out)).returncode == 0
    before = out.read_text()
    proc = sitebench(*DECLARE[:-1], "2000", "--out", str(out))
    assert_one_line_error(proc, 2, str(out), "--force")
    assert out.read_text() == before
    assert sitebench(*DECLARE[:-1], "2000", "--out", str(out), "--force").returncode == 0
    assert load(out).runs[0].power.avg_w == 2000.0


def test_declare_through_the_results_link_does_not_touch_the_shipped_file() -> None:
    link = Path(__file__).resolve().parents[2] / "results" / "declared" / "bitmain-antminer-s21-pro.json"
    shipped = (DATA / "declared" / "bitmain-antminer-s21-pro.json").read_bytes()
    proc = sitebench(*DECLARE, "--out", str(link), "--force")
    assert_one_line_error(proc, 2, "shipped with sitebench")
    assert (DATA / "declared" / "bitmain-antminer-s21-pro.json").read_bytes() == shipped


def test_validate_takes_builtin_names() -> None:
    proc = sitebench("validate", "builtin:declared/bitmain-antminer-s21-pro")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok (" in proc.stdout
    assert_one_line_error(sitebench("validate", "builtin:declared/nope"), 2, "not a file shipped")
