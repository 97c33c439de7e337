"""A miner's measurement as a run record, on synthetic polls: figures by the one definition, power labelled
by where it came from (outlet, firmware_estimate, MODELLED nameplate), the outlet and firmware compared both
ways, telemetry in the GPU layout, contiguous windows after a restart, and a file that validates clean."""

from __future__ import annotations

import json

import pytest

from bench.miners.measure import telemetry
from bench.miners.measure.outcome import RESTARTED, Plan, analyse
from bench.miners.protocol.model import Board, Counter, Identity, Poll, Sample
from bench.miners.record.runrecord import OutletLog, miner_run
from bench.power.meter import Meter, Reading
from bench.record import Document, System, new_document
from bench.validation import validate_text

RATE = 100e12
PLAN = Plan(period_s=1.0, warmup_s=60.0, window_s=10.0, repeats=2, span_s=5.0)
S19 = Identity("10.0.0.5", 4028, "cgminer", "antminer", "Bitmain", "Antminer S19 Pro", "bmminer 1.0.0")
M50 = Identity("10.0.0.6", 4028, "cgminer", "whatsminer", "MicroBT", "Whatsminer M50.VH50", "btminer 1", "WM1")


def polls(identity: Identity, n: int = 30, *, power: float | None = None, t0: float = 100.0, elapsed0: float = 500.0,
          chips: tuple[int, ...] = (114, 114, 114), shares: bool = True) -> list[Sample]:
    """A miner hashing at RATE, stable by its firmware's flag, polled every second."""
    out: list[Sample] = []
    for i in range(n):
        e = elapsed0 + i
        h = e * RATE
        boards = tuple(Board(k, c, 114, 60.0 + k, 75.0 + k + (5.0 if i == n // 2 else 0.0)) for k, c in enumerate(chips))
        out.append(Poll(t=t0 + i, wall=t0 + i, identity=identity, elapsed_s=e, counter=Counter(h, 1e6, "Total MH"),
                        rates_hs={"5s": RATE, "nominal": RATE}, accepted_difficulty=h / 2**32 if shares else None,
                        rejected_difficulty=0.0 if shares else None, shares=int(h / 2**32 / 1024) if shares else None,
                        hw_errors=0, power_w=power, power_source="summary Power" if power else None,
                        fans_rpm=(5400, 5430), boards=boards, stable=True))
    return out


class Outlet(Meter):
    kind = "snmp"

    def __init__(self, accuracy: float | None = 0.03) -> None:
        super().__init__("snmp:pdu1:outlet3", "wall", accuracy=accuracy, accuracy_note="test outlet",
                         update_period_s=1.0, method="polled", accuracy_w=1.0)

    def read(self) -> Reading:
        raise AssertionError("recorded only")


def outlet(watts: float, t0: float = 99.5, n: int = 70, step: float = 0.5, **kw: float | None) -> OutletLog:
    return OutletLog(Outlet(**kw), [Reading(t=t0 + i * step, power_w=watts) for i in range(n)])  # type: ignore[arg-type]


def doc(*runs: object) -> Document:
    return new_document(System(hostname="h"), list(runs))  # type: ignore[arg-type]


def findings(d: Document) -> list[str]:
    return [f.line("r.json") for f in validate_text(json.dumps(d.to_json())).findings]


def test_firmware_power_is_a_labelled_estimate_at_quality_1_and_the_file_validates() -> None:
    m = analyse(M50, polls(M50, power=3300.0), PLAN)
    run = miner_run(m, PLAN, 100.0)
    assert run.ok and run.verified and run.workload == "sha256d" and run.unit == "hash" and run.device == "asic:10.0.0.6"
    assert run.throughput.rate == pytest.approx(RATE, rel=1e-9)
    assert run.throughput.durations_s == pytest.approx([10.0, 10.0], rel=1e-12)
    assert run.power.scope_class == "node" and run.power.quality.level <= 1
    assert run.power.primary[0].method == "firmware_estimate" and run.metrics["power_source"] == "firmware_estimate"
    assert any("firmware_estimate, not metered" in f for f in run.power.flags)
    assert 1e12 / run.efficiency.per_joule == pytest.approx(3300 / 100, rel=1e-9)  # type: ignore[operator]
    hw = run.hardware
    assert hw is not None and (hw.kind, hw.make, hw.model, hw.serial, hw.chips) == (
        "asic", "MicroBT", "Whatsminer M50.VH50", "WM1", 342)
    assert hw.details["chips_expected"] == 342 and hw.details["boards"] == 3
    api = run.power.primary[0]
    assert {"board0_temp_c", "board2_chip_temp_c", "fan1_rpm", "board1_chips", "hashrate_ths"} <= set(api.telemetry)
    assert api.telemetry_summary is not None and api.telemetry_summary.series["board2_chip_temp_c"].max == 82.0
    assert run.metrics["temp_max_c"] == 82.0 and [p.name for p in run.phases] == ["warmup", "window-0", "window-1"]
    assert findings(doc(run)) == []


def test_without_any_power_figure_the_nameplate_is_modelled_everywhere() -> None:
    m = analyse(S19, polls(S19), PLAN)
    run = miner_run(m, PLAN, 100.0)
    p = run.power
    assert p.modelled and not p.measured and p.quality.level == 0 and "nameplate" in p.quality.reasons[0]
    assert p.primary[0].method == "modelled_nameplate" and any("power MODELLED" in f for f in p.flags)
    assert 1e12 / run.efficiency.per_joule == pytest.approx(3250 / 110, rel=1e-9)  # type: ignore[operator]
    telemetry_only = [f for f in p.meters if f.method == "telemetry"]
    assert len(telemetry_only) == 1 and telemetry_only[0].avg_w is None and telemetry_only[0].telemetry
    assert findings(doc(run)) == []


@pytest.mark.parametrize("firmware_w, agree", [(3250.0, True), (2500.0, False)])
def test_the_outlet_is_the_figure_and_the_firmware_is_checked_against_it_both_ways(firmware_w: float,
                                                                                   agree: bool) -> None:
    m = analyse(M50, polls(M50, power=firmware_w), PLAN)
    run = miner_run(m, PLAN, 100.0, outlet=outlet(3290.0))
    p = run.power
    assert p.scope_class == "wall" and p.primary[0].name == "snmp:pdu1:outlet3" and run.metrics["power_source"] == "outlet"
    assert 1e12 / run.efficiency.per_joule == pytest.approx(3290 / 100, rel=0.03)  # type: ignore[operator]
    (check,) = p.crosschecks
    assert check.agree is agree and check.tolerance_w == pytest.approx(0.03 * 3290 + 0.10 * firmware_w, rel=1e-6)
    assert ("DISAGREE" in " ".join(p.flags)) is not agree and run.metrics["firmware_power_w"] == pytest.approx(firmware_w)
    if not agree:
        assert "meters disagree beyond their stated accuracy" in p.quality.reasons
    assert findings(doc(run)) == []


def test_a_pdu_without_stated_accuracy_is_compared_at_the_assumed_10_percent() -> None:
    m = analyse(M50, polls(M50, power=3000.0), PLAN)
    run = miner_run(m, PLAN, 100.0, outlet=outlet(3290.0, accuracy=None))
    (check,) = run.power.crosschecks
    assert check.agree and "assumed for the outlet and firmware" in check.note


def test_after_a_restart_the_record_uses_contiguous_windows_of_one_segment() -> None:
    before = polls(M50, 18, power=3300.0)  # warm at once: window 0 (100..110) valid, window 1 cut by the restart
    after = polls(M50, 30, power=3300.0, t0=118.0, elapsed0=1.0)
    m = analyse(M50, [*before, *after], PLAN)
    assert [w.valid for w in m.windows] == [False, False, True, True]
    assert m.windows[0].invalid_reasons == (RESTARTED,) and "restarted" in m.windows[1].invalid_reasons[0]
    run = miner_run(m, PLAN, 100.0)
    (w0, w1) = run.windows
    assert w0.end == w1.start and w0.start == pytest.approx(18.0) and run.metrics["restarts"] == 1
    assert run.throughput.rate == pytest.approx(RATE, rel=1e-9) and findings(doc(run)) == []


def test_missing_chips_are_in_the_hardware_and_no_window_is_a_failed_run() -> None:
    m = analyse(S19, polls(S19, chips=(114, 100, 114)), PLAN)
    run = miner_run(m, PLAN, 100.0)
    assert run.hardware is not None and run.hardware.chips == 328 and run.hardware.details["board_chips"] == "114/100/114"
    short = analyse(S19, polls(S19, n=8), PLAN)
    failed = miner_run(short, PLAN, 100.0)
    assert failed.status == "failed" and "no valid measured window" in (failed.error or "")
    assert miner_run(short, PLAN, 100.0, stopped=True).status == "interrupted"


def test_unverified_miners_carry_their_reasons() -> None:
    m = analyse(S19, polls(S19, shares=False), PLAN)
    run = miner_run(m, PLAN, 100.0)
    assert run.ok and not run.verified and "pool cross-check cannot be made" in (run.error or "")


def test_telemetry_keeps_changes_and_long_series_are_thinned() -> None:
    from dataclasses import replace

    base = [p for p in polls(M50, 200) if isinstance(p, Poll)]
    varied = [replace(p, hw_errors=i, fans_rpm=(5400,)) for i, p in enumerate(base)]
    series = telemetry.series(varied, 100.0)
    assert series["fan0_rpm"] == [[0.0, 5400.0], [199.0, 5400.0]], "a constant: first and last point"
    assert len(series["hw_errors"]) == telemetry.MAX_POINTS and series["hw_errors"][-1] == [199.0, 199.0]
    spike = series["board0_chip_temp_c"]
    assert [99.0, 75.0] in spike and [100.0, 80.0] in spike and [101.0, 75.0] in spike, "a step, held until it changes"


def test_the_slope_test_spans_enough_polls_even_for_short_windows() -> None:
    from dataclasses import replace

    plan = Plan(period_s=5.0, warmup_s=120.0, window_s=10.0, repeats=2)
    assert plan.slope_span_s == pytest.approx(25.0, rel=1e-12), "5 poll periods: the fewest the slope test can judge from"
    slow = [replace(p, t=100.0 + 5 * i, elapsed_s=500.0 + 5 * i,
                    counter=Counter((500.0 + 5 * i) * RATE, 1e6, "Total MH"), stable=None)
            for i, p in enumerate(polls(S19, 20)) if isinstance(p, Poll)]
    m = analyse(S19, list(slow), plan)
    assert m.warmups[0].method == "slope test" and len(m.valid_windows) == 2
    assert m.warmups[0].waited_s == pytest.approx(25.0, rel=1e-12)
