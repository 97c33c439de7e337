"""`sitebench size` and `sitebench declare` through the CLI: tables, --json, plots and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import matplotlib.image
import pytest

from bench.cli import main
from bench.record import Run
from bench.validation import errors, validate_file

S21_PRO = ["declare", "--model", "Bitmain Antminer S21 Pro", "--workload", "sha256d",
           "--throughput", "234e12", "--power-w", "3531"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_size_json_has_the_contract_fields_in_base_units(capsys: pytest.CaptureFixture[str],
                                                         run_factory: Callable[..., Run],
                                                         write_doc: Callable[..., Path]) -> None:
    path = write_doc(run_factory(), run_factory(status="failed", avg_w=None))
    rc, out, _ = run_cli(capsys, "size", str(path), "--mw", "1", "--pue", "1.25", "--json")
    assert rc == 0
    ok, failed = json.loads(out)
    for key in ("workload", "system", "unit", "machines", "throughput", "throughput_low", "throughput_high",
                "mw_per_throughput", "efficiency", "power_w_per_machine", "measured"):
        assert key in ok
    assert ok["system"] == "Test CPU 9000" and ok["machines"] == 1600
    assert ok["throughput"] == pytest.approx(160_000, rel=1e-12)
    assert ok["mw_per_throughput"] == pytest.approx(6.25e-6) and ok["measured"] is True
    assert failed["sized"] is False and "failed" in failed["reason"]


def test_size_table_shows_units_overhead_and_modelled(capsys: pytest.CaptureFixture[str],
                                                      run_factory: Callable[..., Run],
                                                      write_doc: Callable[..., Path]) -> None:
    path = write_doc(run_factory(median=1e12, p10=None, p90=None, avg_w=400.0, scope="gpu:0"),
                     run_factory(workload="llm-decode", unit="token", median=1000.0, avg_w=20.0,
                                 scope="modelled", measured=False, accuracy=None))
    rc, out, _ = run_cli(capsys, "size", str(path), "--mw", "100")
    assert rc == 0
    assert "PH/s" in out and "J/TH" in out and "per EH/s" in out
    assert "tok/s" in out and "J/token" in out and "per M tok/s" in out
    assert "120 W overhead" in out and "30% of component power" in out
    assert "MODELLED" in out and "warning" in out



def test_size_heads_each_figure_by_what_it_is(run_factory: Callable[..., Run]) -> None:
    from bench.sizing.model import Allocation, Sized, size
    from bench.sizing.render import size_table
    from bench.sizing.sources import candidates
    from tests.bench.sizing.conftest import make_doc

    doc = make_doc(run_factory(median=1e12), run_factory(workload="llm-decode", unit="token", median=1000.0))
    sized = [s for c in candidates(doc, "r.json") if isinstance(s := size(c, Allocation(1.0)), Sized)]
    assert [c.header for c in size_table(sized[:1], "t").columns][4] == "J/TH"
    headers = [str(c.header) for c in size_table(sized, "t").columns]
    assert "J/TH or J/token" in headers and "efficiency" not in headers, "J/TH is energy per TH, not efficiency"


def test_declared_entries_are_kept_apart(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         run_factory: Callable[..., Run],
                                         write_doc: Callable[..., Path]) -> None:
    declared = tmp_path / "s21.json"
    assert run_cli(capsys, *S21_PRO, "--out", str(declared))[0] == 0
    doc = json.loads(declared.read_text())
    assert doc["source"] == "declared" and doc["system"]["model"] == "Bitmain Antminer S21 Pro"
    assert doc["runs"][0]["unit"] == "hash" and not errors(validate_file(declared).findings)
    rc, out, _ = run_cli(capsys, "size", str(declared), str(write_doc(run_factory())), "--mw", "100")
    assert rc == 0
    measured_part, declared_part = out.split("Declared (vendor figures, not measured)")
    assert "Runs measured by sitebench" in measured_part and "S21 Pro" not in measured_part and "S21 Pro" in declared_part
    rc, out, _ = run_cli(capsys, "size", str(declared), "--mw", "100", "--json")
    (s,) = json.loads(out)
    # 100 MW / 3531 W = 28,320 machines x 234 TH/s; 3531 / 234e12 W per H/s = 15.09 J/TH
    assert s["machines"] == 28_320 and s["throughput"] == pytest.approx(28_320 * 234e12)
    assert 1e12 / s["efficiency"] == pytest.approx(3531 / 234)
    assert s["power_w_per_machine_low"] == pytest.approx(3531 * 0.95) and s["source"] == "declared"


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_size_plot_is_a_valid_image(capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str,
                                    run_factory: Callable[..., Run],
                                    write_doc: Callable[..., Path]) -> None:
    plot = tmp_path / f"size.{suffix}"
    rc, _, _ = run_cli(capsys, "size", str(write_doc(run_factory(), run_factory(workload="llm-decode",
                                                                                 unit="token"))),
                       "--mw", "10", "--plot", str(plot))
    assert rc == 0
    data = plot.read_bytes()
    if suffix == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert matplotlib.image.imread(str(plot)).shape[2] in (3, 4)
    else:
        assert b"<svg" in data[:2000] and data.rstrip().endswith(b"</svg>")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--mw", "0"], 2, "--mw"),
    (["--mw", "-3"], 2, "--mw"),
    (["--mw", "1", "--pue", "0.5"], 2, "--pue"),
    (["--mw", "1", "--node-overhead-w", "-1"], 2, "--node-overhead-w"),
    (["--mw", "1", "--plot", "x.gif"], 2, ".png or .svg"),
    (["--mw", "1e303"], 2, "at most"),
])
def test_size_bad_options_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], args: list[str], code: int,
                                               message: str, run_factory: Callable[..., Run],
                                               write_doc: Callable[..., Path]) -> None:
    rc, _, err = run_cli(capsys, "size", str(write_doc(run_factory())), *args)
    assert rc == code and message in err and len(err.strip().splitlines()) == 1


def test_size_bad_files(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                        run_factory: Callable[..., Run], write_doc: Callable[..., Path]) -> None:
    rc, _, err = run_cli(capsys, "size", str(write_doc(run_factory(status="failed"))), "--mw", "1")
    assert rc == 2 and "no usable runs" in err
    rc, _, err = run_cli(capsys, "size", str(tmp_path / "missing.json"), "--mw", "1")
    assert rc == 2 and "no such file" in err
    bad = write_doc(doc={"schema": "sitebench.result/2", "runs": "nope"}, name="bad.json")
    rc, _, err = run_cli(capsys, "size", str(bad), "--mw", "1")
    assert rc == 1 and "bad.json" in err and "Traceback" not in err


def test_declare_bad_input_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = str(tmp_path / "d.json")
    rc, _, err = run_cli(capsys, *S21_PRO[:-1], "0", "--out", out)
    assert rc == 2 and "--power-w" in err
    rc, _, err = run_cli(capsys, "declare", "--model", "X", "--workload", "asic-thing", "--throughput", "1",
                         "--power-w", "1", "--out", out)
    assert rc == 2 and "--unit" in err
    rc, _, err = run_cli(capsys, *S21_PRO, "--tolerance", "1.5", "--out", out)
    assert rc == 2 and "--tolerance" in err
    rc, _, err = run_cli(capsys, "declare", "--model", "X", "--workload", " ", "--unit", "hash", "--throughput", "1",
                         "--power-w", "1", "--out", out)
    assert rc == 2 and "--workload" in err and not Path(out).exists()


def test_a_power_too_small_to_size_is_skipped_with_the_reason_not_a_traceback(
        capsys: pytest.CaptureFixture[str], run_factory: Callable[..., Run],
        write_doc: Callable[..., Path]) -> None:
    path = write_doc(run_factory())
    doc = json.loads(path.read_text())
    for run in doc["runs"]:  # the smallest power the bounded fields allow: 1e-300 units/s at 1e21 units/J
        run["throughput"].update(rate=1e-300, median=1e-300, p10=1e-300, p90=1e-300, samples=[1e-300])
        run["efficiency"]["per_joule"] = 1e21
    path.write_text(json.dumps(doc))
    rc, _, err = run_cli(capsys, "size", str(path), "--mw", "1000")
    assert rc == 2 and "too small to size" in err and len(err.strip().splitlines()) == 1
