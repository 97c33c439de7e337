"""The csv meter: wall-meter/PDU logs and SPEC PTDaemon logs imported by clock."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bench.cli import main
from bench.errors import MeterReadError, MeterUnavailable, UsageError
from bench.power.discovery import discover, open_spec
from bench.power.meters import csvlog
from bench.power.meters.powerlog import PowerLog, parse_time

DATA = Path(__file__).parent / "data"


def write_log(path: Path, rows: list[tuple[float, float]], header: str = "timestamp,watts") -> Path:
    path.write_text(header + "\n" + "".join(f"{t:.3f},{w}\n" for t, w in rows))
    return path


def only(arg: str) -> csvlog.CsvLogMeter:
    (meter,) = open_spec(f"csv:{arg}")
    assert isinstance(meter, csvlog.CsvLogMeter)
    return meter


def span(meter: csvlog.CsvLogMeter, epoch0: float, epoch1: float) -> tuple[float, float]:
    """A run span given in this machine's wall-clock time, on the monotonic clock."""
    return epoch0 - meter.wall_minus_monotonic, epoch1 - meter.wall_minus_monotonic


def test_epoch_log_is_wall_power_aligned_by_clock(tmp_path: Path) -> None:
    now = time.time()
    log = write_log(tmp_path / "pdu.csv", [(now - 10 + 0.5 * i, 400 + i) for i in range(21)])
    meter = only(str(log))
    assert (meter.name, meter.scope, meter.method, meter.polled) == ("csv:pdu.csv", "wall", "log", False)
    assert meter.update_period_s == pytest.approx(0.5) and meter.accuracy is None
    assert "not stated" in meter.accuracy_note
    t0, t1 = span(meter, now - 6.1, now - 3.9)
    readings = meter.backfill(t0, t1)
    assert [r.power_w for r in readings] == [408, 409, 410, 411, 412]
    assert all(t0 <= r.t <= t1 for r in readings)
    assert readings[0].t == pytest.approx(t0 + 0.1, abs=1e-3)
    with pytest.raises(MeterReadError, match="imported after the run"):
        meter.read()


def test_logger_clock_offset_shifts_readings(tmp_path: Path) -> None:
    now = time.time()
    # The logger's clock runs 2.5 s ahead: what it stamps now+2.5 happened now.
    log = write_log(tmp_path / "ahead.csv", [(now + 2.5 - 5 + i, 100.0 * i) for i in range(10)])
    meter = only(f"{log},offset=2.5,scope=node,accuracy=0.005")
    assert meter.scope == "node" and meter.accuracy == 0.005 and "offset +2.5 s" in meter.accuracy_note
    t0, t1 = span(meter, now - 0.2, now + 1.2)
    assert [r.power_w for r in meter.backfill(t0, t1)] == [500.0, 600.0]
    behind = write_log(tmp_path / "behind.csv", [(now - 2.5 - 5 + i, 100.0 * i) for i in range(10)])
    assert [r.power_w for r in only(f"{behind},offset=-2.5").backfill(t0, t1)] == [500.0, 600.0]


def test_iso_timestamps_and_common_column_names(tmp_path: Path) -> None:
    base = datetime(2026, 11, 25, 13, 0, 0, tzinfo=timezone.utc).timestamp()
    log = tmp_path / "pdu.csv"
    log.write_text("Outlet,Time,Active Power [kW]\n" + "".join(
        f"A1,{datetime.fromtimestamp(base + i, timezone.utc).isoformat().replace('+00:00', 'Z')},0.{i}5\n"
        for i in range(4)))
    meter = only(str(log))
    assert meter.log.rows == [pytest.approx((base + i, 1000 * float(f"0.{i}5")), abs=1e-6) for i in range(4)]
    assert parse_time("1732540000123") == pytest.approx(1732540000.123)
    assert parse_time("2026-11-25T13:00:00+01:00") == pytest.approx(base - 3600, abs=1e-6)


def test_ptdaemon_log(tmp_path: Path) -> None:
    meter = only(str(DATA / "ptdaemon.log"))
    assert meter.log.format == "ptdaemon" and meter.accuracy == 0.01 and "SPEC" in meter.accuracy_note
    rows = meter.log.rows
    assert [w for _, w in rows] == [272.93, 275.63, 281.1, 279.4]  # NOTICE/ERROR, -1 and repeats skipped
    t = datetime.strptime("01-22-2021 15:05:14.313", "%m-%d-%Y %H:%M:%S.%f").timestamp()
    assert rows[0][0] == pytest.approx(t) and meter.update_period_s == pytest.approx(1.0, abs=0.01)
    t0, t1 = meter.to_monotonic(t) - 0.5, meter.to_monotonic(rows[-1][0])
    assert [r.power_w for r in meter.backfill(t0, t1)] == [272.93, 275.63, 281.1, 279.4]


def test_gap_in_the_run_is_reported_not_interpolated(tmp_path: Path) -> None:
    now = time.time()
    rows = [(now - 20 + i, 300.0) for i in range(8)] + [(now - 20 + i, 300.0) for i in range(12, 20)]
    meter = only(str(write_log(tmp_path / "gap.csv", rows)))
    t0, t1 = span(meter, now - 18, now - 2)
    needle = r"gap of 5.0 s in the log after .* \(more than 3x its median interval 1 s\)"
    with pytest.raises(csvlog.LogGap, match=needle) as exc:
        meter.backfill(t0, t1)
    assert exc.value.t == pytest.approx(meter.to_monotonic(now - 13))
    inside = [meter.to_monotonic(t) for t, _ in meter.log.rows if t0 <= meter.to_monotonic(t) <= t1]
    assert [r.t for r in exc.value.readings] == inside and len(inside) >= 11, "the valid readings around the gap"
    assert len(meter.backfill(*span(meter, now - 20.5, now - 12.5))) == 8, "outside the gap the log is fine"


@pytest.mark.parametrize(
    ("first", "last", "needle"),
    [
        (-100, -50, "does not cover the run"),
        (-20, -5, "the log ends 5.5 s before the end of the run"),
        (-4, 1, "the log starts 6.0 s after the start of the run"),
    ],
)
def test_log_not_covering_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: int, last: int,
                                  needle: str) -> None:
    monkeypatch.setattr(csvlog, "LOGGER_GRACE_S", 0.1)
    now = time.time()
    rows = [(now + i / 10, 250.0) for i in range(first * 10, last * 10 + 1)]
    meter = only(str(write_log(tmp_path / "short.csv", rows)))
    start = time.monotonic()
    with pytest.raises(MeterReadError, match=needle):
        meter.backfill(*span(meter, now - 10, now + 0.5))
    assert time.monotonic() - start < 2, "waits a few intervals for the logger, not forever"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "no readings in the log"),
        ("timestamp,watts\n", "no readings in the log"),
        ("timestamp,watts\n1700000000,300\n", "one reading only"),
        ("1700000000,300\n1700000001,300\n", ":1: no header line"),
        ("time,volts\n1700000000,230\n", ":1: header has no power column"),
        ("watts,amps\n300,1.3\n", ":1: header has no timestamp column"),
        ("timestamp,watts\n1700000000,300\n1700000001,n/a\n", ":3: bad power value 'n/a'"),
        ("timestamp,watts\n1700000000,300\n1700000001,-5\n", ":3: bad power value '-5'"),
        ("timestamp,watts\nyesterday,300\n", ":2: bad timestamp 'yesterday'"),
        ("timestamp,watts\n1700000002,300\n1700000001,300\n", ":3: timestamps go backwards"),
        ("timestamp,watts\n1700000000\n", ":2: 1 fields"),
        ("Time,13-45-2021 15:05:14.313,Watts,22.9\n", ":1: bad PTDaemon time"),
    ],
)
def test_malformed_logs_are_one_line(tmp_path: Path, text: str, needle: str) -> None:
    log = tmp_path / "bad.csv"
    log.write_text(text)
    with pytest.raises(UsageError) as exc:
        discover([f"csv:{log}"])
    assert needle in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("arg", "needle"),
    [
        (None, "needs a log file"),
        ("nosuch.csv", "nosuch.csv: no such file"),
        ("{log},scope=gpu:0", "scope='gpu:0': expected one of wall, node"),
        ("{log},offset=later", "offset='later' is not a number"),
        ("{log},accuracy=1", "is a fraction"),
        ("{log},tz=UTC", "option 'tz' not understood"),
    ],
)
def test_bad_meter_arguments(tmp_path: Path, arg: str | None, needle: str) -> None:
    log = write_log(tmp_path / "ok.csv", [(1.7e9, 1.0), (1.7e9 + 1, 1.0)])
    with pytest.raises((MeterUnavailable, UsageError), match=needle.replace("(", r"\(")):
        open_spec(f"csv:{arg.format(log=log)}" if arg else "csv")


def test_log_appended_while_reading_and_a_partial_last_line(tmp_path: Path) -> None:
    log = write_log(tmp_path / "grow.csv", [(1.7e9, 1.0), (1.7e9 + 1, 2.0)])
    reader = PowerLog(log)
    assert reader.update() == 2
    with log.open("a") as f:
        f.write("1700000002.000,3.0\n1700000003.0")  # the logger is mid-line
    assert reader.update() == 1 and reader.rows[-1] == (1.7e9 + 2, 3.0)
    with log.open("a") as f:
        f.write("00,4.0\n")
    assert reader.update() == 1 and reader.rows[-1] == (1.7e9 + 3, 4.0)


LOGGER = """
import sys, time
t = time.time()
with open(sys.argv[1], "a") as f:
    while True:  # rows every 0.1 s by their own clock, as a metering device's are: a late wake-up catches up
        while t <= time.time():
            f.write(f"{t:.3f},420.0\\n")
            t += 0.1
        f.flush()
        time.sleep(max(0.0, t - time.time()))
"""


def test_run_end_to_end_with_a_log_written_during_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wall meter logging 420 W at 10 Hz while `sitebench run` runs.

    The logger is its own process, as a real one is: a thread in this process would be starved of the
    GIL while numba compiles and leave real holes in the log, which the meter (rightly) refuses.
    """
    log, out = tmp_path / "wall.csv", tmp_path / "r.json"
    log.write_text("timestamp,watts\n")
    logger = subprocess.Popen([sys.executable, "-c", LOGGER, str(log)])
    try:
        while log.read_text().count("\n") < 4:
            time.sleep(0.05)
        code = main(["run", "-w", "sha256d", "--meter", f"csv:{log}", "--idle", "0.3", "--warmup", "0.1",
                     "--window", "1.0", "--repeats", "1", "--quiet", "--out", str(out)])
    finally:
        logger.kill()
        logger.wait()
    assert code == 0, capsys.readouterr().err
    (run,) = json.loads(out.read_text())["runs"]
    power = run["power"]
    assert power["scope"] == "wall" and power["measured"] is True
    assert power["avg_w"] == pytest.approx(420.0) and power["idle_before_w"] == pytest.approx(420.0)
    (meter,) = power["meters"]
    assert (meter["name"], meter["kind"], meter["method"]) == ("csv:wall.csv", "csv", "log")
    assert meter["readings"] >= 8 and not meter["gaps"]
    assert power["energy_j"] == pytest.approx(meter["energy_j"])
    assert run["efficiency"]["per_joule"] == pytest.approx(sum(run["throughput"]["units"]) / meter["energy_j"])
