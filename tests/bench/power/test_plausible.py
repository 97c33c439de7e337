"""The gap rule: a reading no meter can give (NaN, +-Inf, negative, beyond its maximum, a counter that goes back
or leaps) is a gap with its reason where it enters the power layer, and the run goes on with what was measured.

Readings here carry the times the tests give them: nothing depends on how fast the machine is.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from bench.errors import MeterReadError
from bench.measure.journal import Journal
from bench.power.meter import CounterDiscontinuity, ImpossibleReading, Meter, Reading
from bench.power.plausible import MARGIN, RATED_W, Screen, limit, scope_max_w
from bench.power.sampler import Gap, Marker, Sampler
from bench.power.window import energy
from bench.record import Run
from bench.record.bounds import MAX_MACHINE_W
from bench.run.runner import Timing
from tests.bench.power.fakes import Sleeper, sampled_run

NAN, INF = float("nan"), float("inf")


class Scripted(Meter):
    """Gives ``values`` in turn (then the last again): power readings, or counter readings with ``counter``; each
    taken now, or at the time given as ``(t, value)``."""

    kind = "test"

    def __init__(self, values: list[object], scope: str = "gpu:0", *, counter: bool = False,
                 update_period_s: float = 0.1, polled: bool = True) -> None:
        super().__init__(f"scripted:{scope}", scope, accuracy=0.01, accuracy_note="test",
                         update_period_s=update_period_s, method="counter" if counter else "polled")
        self.values, self.counter, self.i = values, counter, 0
        self.polled = polled  # type: ignore[misc]

    def reading(self, value: object) -> Reading:
        t, v = value if isinstance(value, tuple) else (time.monotonic(), value)
        return Reading(t=t, energy_j=v) if self.counter else Reading(t=t, power_w=v)  # type: ignore[arg-type]

    def read(self) -> Reading:
        value = self.values[min(self.i, len(self.values) - 1)]
        self.i += 1
        return self.reading(value)

    def backfill(self, t0: float, t1: float) -> list[Reading] | None:
        return None if self.polled else [self.reading(v) for v in self.values]


def screen(scope: str = "gpu:0", counter: bool = False, **kw: object) -> Screen:
    return Screen(Scripted([], scope, counter=counter, **kw))  # type: ignore[arg-type]


# --- the rule on one reading ----------------------------------------------------------------------------

@pytest.mark.parametrize("value, words", [
    (NAN, "NaN (not a number)"),
    (INF, "inf (not a finite number)"),
    (-INF, "-inf (not a finite number)"),
    (-300.0, "-300 W is negative"),
    (-1e-9, "is negative"),
    (1e12, "1e+12 W is beyond the most a gpu:0 meter can read, 2,800 W"),
    ("250", "not a finite number"),
    (True, "not a finite number"),
])
def test_a_power_no_meter_can_read_is_refused_with_its_reason(value: object, words: str) -> None:
    with pytest.raises(ImpossibleReading, match="scripted:gpu:0: power reading") as refused:
        screen().admit(Reading(t=1.0, power_w=value))  # type: ignore[arg-type]
    assert words in str(refused.value) and "\n" not in str(refused.value)
    assert not isinstance(refused.value, CounterDiscontinuity)


def test_zero_and_the_maximum_itself_are_readings() -> None:
    s = screen()
    assert s.admit(Reading(t=1.0, power_w=0.0)).power_w == 0.0
    assert s.admit(Reading(t=2.0, power_w=MARGIN * RATED_W["gpu"])).power_w == 2800.0
    with pytest.raises(ImpossibleReading):
        s.admit(Reading(t=3.0, power_w=2800.5))


def test_the_maximum_by_scope_and_as_a_meter_declares_it() -> None:
    assert scope_max_w("gpu:3") == (2800.0, "2 x the largest gpu rating sold")
    assert scope_max_w("gpu:0+gpu:1")[0] == 5600.0
    assert scope_max_w("cpu-package:0")[0] == 1000.0 and scope_max_w("dram:1")[0] == 1000.0
    assert scope_max_w("module:0")[0] == 5400.0
    for wide in ("node", "wall", "modelled", "gpu:0+node", "something-new"):
        assert scope_max_w(wide) == (MAX_MACHINE_W, "the record's bound per machine")
    meter = Scripted([], "gpu:0")
    meter.max_w = 1400.0  # an H100's 700 W x 2, as nvml declares it
    assert limit(meter) == (1400.0, "declared by the meter from its device's rating")
    with pytest.raises(ImpossibleReading, match="1500 W is beyond the most a gpu:0 meter can read, 1,400 W"):
        Screen(meter).admit(Reading(t=1.0, power_w=1500.0))
    meter.max_w = 1e15  # nothing is ever allowed beyond the record's bound
    assert limit(meter)[0] == MAX_MACHINE_W
    node = screen("node")
    assert node.admit(Reading(t=1.0, power_w=130_000.0)).power_w == 130_000.0  # a 72-GPU rack at the wall
    with pytest.raises(ImpossibleReading, match="beyond the most a node meter can read, 1,000,000 W"):
        node.admit(Reading(t=2.0, power_w=1e12))


def test_a_reading_time_must_be_finite_and_never_go_back() -> None:
    s = screen()
    with pytest.raises(ImpossibleReading, match="reading time NaN"):
        s.admit(Reading(t=NAN, power_w=100.0))
    s.admit(Reading(t=5.0, power_w=100.0))
    s.admit(Reading(t=5.0, power_w=100.0))  # a held value may repeat its time
    with pytest.raises(ImpossibleReading, match="taken 1 s before the previous one"):
        s.admit(Reading(t=4.0, power_w=100.0))


def test_telemetry_that_is_not_finite_is_left_out_and_the_reading_kept() -> None:
    kept = screen().admit(Reading(t=1.0, power_w=300.0, extra={"temperature_c": NAN, "sm_clock_mhz": 1980,
                                                               "gpu_power_w": 1e300, "throttle_reasons": []}))
    assert kept.power_w == 300.0 and kept.extra == {"sm_clock_mhz": 1980, "throttle_reasons": []}


# --- counters ---------------------------------------------------------------------------------------------

def _energies(s: Screen, points: list[tuple[float, float]]) -> list[object]:
    """What became of each (t, J): the energy kept, or the refusal's class."""
    out: list[object] = []
    for t, j in points:
        try:
            out.append(s.admit(Reading(t=t, energy_j=j)).energy_j)
        except MeterReadError as exc:
            out.append(type(exc))
    return out


def test_a_counter_is_kept_from_zero_and_carried_across_a_restart() -> None:
    s = screen("node", counter=True)
    # 250 W; the exporter restarts between 2 s and 3 s and counts again from 10 J
    got = _energies(s, [(0.0, 1000.0), (1.0, 1250.0), (2.0, 1500.0), (3.0, 10.0), (4.0, 260.0)])
    assert got == [0.0, 250.0, 500.0, CounterDiscontinuity, 750.0]


def test_a_counter_going_back_says_so() -> None:
    s = screen("node", counter=True)
    s.admit(Reading(t=0.0, energy_j=500.0))
    with pytest.raises(CounterDiscontinuity, match="energy counter went back from 500 to 499.5 J"):
        s.admit(Reading(t=1.0, energy_j=499.5))


def test_a_counter_leap_beyond_what_the_scope_can_draw_is_a_discontinuity() -> None:
    s = screen("gpu:0", counter=True)  # at most 2,800 W, counter updated every 0.1 s
    got = _energies(s, [(0.0, 0.0), (1.0, 300.0), (2.0, 1e12 + 600.0), (3.0, 1e12 + 900.0)])
    assert got == [0.0, 300.0, CounterDiscontinuity, 600.0]
    with pytest.raises(CounterDiscontinuity, match=r"jumped by 5000 J in 1 s \(4.55e\+03 W\), beyond the most a "
                                                   r"gpu:0 meter can read, 2,800 W"):
        s.admit(Reading(t=4.0, energy_j=1e12 + 5900.0))


def test_an_honest_counter_read_just_after_it_updated_is_no_leap() -> None:
    # 1,400 W, the counter moving in 0.1 s steps; read 1 ms apart across a step: 140 J in 1 ms
    s = screen("gpu:0", counter=True)
    assert _energies(s, [(0.0, 0.0), (0.099, 0.0), (0.1, 140.0), (0.2, 280.0)]) == [0.0, 0.0, 140.0, 280.0]


def test_a_counter_that_is_not_a_number_is_a_gap_and_changes_nothing() -> None:
    s = screen("node", counter=True)
    got = _energies(s, [(0.0, 100.0), (1.0, NAN), (2.0, INF), (3.0, 850.0)])
    assert got == [0.0, ImpossibleReading, ImpossibleReading, 750.0]


# --- where readings enter: the sampler ---------------------------------------------------------------------

def test_the_sampler_records_each_impossible_reading_as_a_gap_and_keeps_the_rest(tmp_path: Path) -> None:
    meter = Scripted([250.0, NAN, -300.0, 1e12, INF, 260.0], "gpu:0")
    journal = Journal(tmp_path / "r.json.journal.jsonl")
    sampler = Sampler([meter], journal=journal)
    for i in range(6):
        sampler.mark(f"m{i}")  # a marker takes a reading of every meter, here and now
    journal.close()
    log = sampler.logs[meter.name]
    assert [r.power_w for r in log.readings] == [250.0, 260.0]
    assert [g.discontinuity for g in log.gaps] == [False] * 4
    assert ["NaN" in log.gaps[0].reason, "negative" in log.gaps[1].reason, "beyond" in log.gaps[2].reason,
            "inf" in log.gaps[3].reason] == [True] * 4
    text = (tmp_path / "r.json.journal.jsonl").read_text()
    assert "NaN" not in text.replace("NaN (not", "") and "Infinity" not in text, "the journal holds no bad number"
    lines = [json.loads(x) for x in text.splitlines()]
    assert [x["type"] for x in lines if x["type"] in ("reading", "gap")] == ["reading", "gap", "gap", "gap", "gap",
                                                                             "reading"]


def test_a_counter_restart_is_a_discontinuity_gap_in_the_sampler() -> None:
    meter = Scripted([(0.0, 5000.0), (1.0, 5100.0), (2.0, 3.0), (3.0, 103.0)], "node", counter=True)
    sampler = Sampler([meter])
    for i in range(4):
        sampler.mark(f"m{i}")
    log = sampler.logs[meter.name]
    assert [r.energy_j for r in log.readings] == [0.0, 100.0, 200.0]
    assert len(log.gaps) == 1 and log.gaps[0].discontinuity and "went back from 5100 to 3 J" in log.gaps[0].reason


def test_readings_taken_elsewhere_are_admitted_by_the_same_rule() -> None:
    meter = Scripted([], "wall")
    sampler = Sampler([meter])
    log = sampler.admit(meter.name, [Reading(t=1.0, power_w=900.0), Reading(t=2.0, power_w=NAN),
                                     Reading(t=3.0, power_w=-5.0), Reading(t=4.0, power_w=910.0)])
    assert [r.power_w for r in log.readings] == [900.0, 910.0]
    assert [(g.t, "NaN" in g.reason or "negative" in g.reason) for g in log.gaps] == [(2.0, True), (3.0, True)]


def test_a_backfilled_log_is_admitted_by_the_same_rule() -> None:
    t = time.monotonic()
    meter = Scripted([(t + 0.1, 500.0), (t + 0.2, -1.0), (t + 0.3, NAN), (t + 0.4, 510.0)], "wall", polled=False)
    sampler = Sampler([meter])
    sampler.backfill(t, t + 1.0)
    log = sampler.logs[meter.name]
    assert [r.power_w for r in log.readings] == [500.0, 510.0]
    assert [round(g.t - t, 3) for g in log.gaps] == [0.2, 0.3]


# --- what reaches the record -----------------------------------------------------------------------------

def test_a_run_whose_meter_reads_impossible_values_is_written_with_gaps_and_its_honest_figure() -> None:
    values: list[object] = [250.0, NAN, 250.0, -300.0, 250.0, 1e12, 250.0, INF]
    run = sampled_run([Scripted(values * 1000, "node")], Timing(idle_s=0.05, warmup_s=0.05, window_s=0.3, repeats=2,
                                                              tail_s=0.05), workload=Sleeper())
    assert Run.model_validate(run.to_json()) == run  # built, and within every bound of the record
    meter = run.power.meters[0]
    assert meter.trace and all(w == 250.0 for _, w in meter.trace), "every honest reading kept, no other"
    if meter.avg_w is not None:  # (a sampler starved of the CPU may leave a window too few readings for one)
        assert meter.avg_w == pytest.approx(250.0) and run.power.energy_j == meter.energy_j
    reasons = " ".join(g.reason for g in meter.gaps)
    assert meter.gaps and any(w in reasons for w in ("NaN", "negative", "beyond", "inf"))
    assert any("gap(s) in the measured window" in f for f in run.power.flags)


def test_a_run_whose_meter_never_reads_a_possible_value_is_written_without_a_figure() -> None:
    run = sampled_run([Scripted([NAN], "node")], Timing(idle_s=0.05, warmup_s=0.05, window_s=0.2, repeats=2,
                                                         tail_s=0.05), workload=Sleeper())
    assert Run.model_validate(run.to_json()) == run
    assert run.power.avg_w is None and run.power.valid_for_sizing is False
    assert len(run.throughput.samples) == 2, "what the workload did is kept"
    assert "NaN" in run.power.meters[0].gaps[0].reason


def _window(log_fill: list[Reading], gaps: list[Gap], scope: str = "node") -> object:
    meter = Scripted([], scope)
    sampler = Sampler([meter])
    log = sampler.logs[meter.name]
    log.readings, log.gaps = log_fill, gaps  # by hand, past the screen, as a caller might
    n = len(log_fill) - 1
    return energy.window(log, Marker("a", 0.0, {meter.name: 0}), Marker("b", log_fill[-1].t, {meter.name: n}), 0.0)


def test_a_window_lists_at_most_max_gaps_and_says_how_many_there_were() -> None:
    readings = [Reading(t=i * 0.01, power_w=100.0) for i in range(200)]
    fig = _window(readings, [Gap(0.5 + i * 1e-4, f"BMC stopped answering ({i})") for i in range(5000)])
    gaps = fig.gaps  # type: ignore[attr-defined]
    assert len(gaps) == energy.MAX_GAPS and gaps[0].reason == "BMC stopped answering (0)"
    assert gaps[-1].reason.startswith(f"{5000 - energy.MAX_GAPS + 1} more gaps to here (5000 in all); the last: "
                                      "BMC stopped answering (4999)")


def test_figures_beyond_what_the_record_holds_are_withheld_not_raised() -> None:
    readings = [Reading(t=i * 0.1, power_w=1e12 if i % 2 else 100.0) for i in range(20)]
    fig = _window(readings, [])
    assert fig.energy_j is None and fig.valid is False  # type: ignore[attr-defined]
    assert any("beyond what one machine draws" in r for r in fig.invalid_reasons)  # type: ignore[attr-defined]
    assert all(0.0 <= w <= MAX_MACHINE_W and math.isfinite(w) for _, w in fig.trace)  # type: ignore[attr-defined]
