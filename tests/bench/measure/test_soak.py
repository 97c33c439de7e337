"""A soak's block from a run's windows: built with a known drift per hour and known throttled windows, the
block reports them; validate recomputes it and finds any figure changed; the duration and plan refuse bad
input in one line."""

from __future__ import annotations

import pytest

from bench.errors import UsageError
from bench.measure.runrecord import RunHead, measured_run
from bench.measure.soak import SoakSpec, check_trace, default_window, parse_duration, plan, soak_block, with_soak
from bench.record import Document, Phase, PowerBlock, Run, new_document
from bench.record.io import dumps, from_json, parse_json, schema_errors
from bench.record.thermal import Thermal, Throttle, ThrottleWindow
from bench.validation.core import run_checks

WINDOW_S, N = 60.0, 60
#: built with: throughput -2 %/h, units per joule -0.5 %/h (of their means), GPU throttled in windows 20..44
THROUGHPUT, EFFICIENCY = -0.02, -0.005
HOT = range(20, 45)


def soaked_run(n: int = N) -> Run:
    """A run of ``n`` one-minute windows whose figures drift and whose GPU throttles as built."""
    mids = [(i + 0.5) * WINDOW_S for i in range(n)]
    centre = sum(mids) / n
    rates = [1e9 * (1 + THROUGHPUT * (t - centre) / 3600) for t in mids]
    per_j = [4e6 * (1 + EFFICIENCY * (t - centre) / 3600) for t in mids]
    units = [r * WINDOW_S for r in rates]
    energy = [u / e for u, e in zip(units, per_j)]
    phases = [Phase(name=f"window-{i}", start=i * WINDOW_S, end=(i + 1) * WINDOW_S) for i in range(n)]
    power = PowerBlock(measured=True, valid_for_sizing=True, energy_j=sum(energy), avg_w=sum(energy) / (n * WINDOW_S),
                       window_s=n * WINDOW_S, window_energy_j=energy, scope="gpu:0", scope_class="components")
    run = measured_run(RunHead("sha256d", "cuda:0", "hash"), units, [WINDOW_S] * n, phases=phases, power=power)
    throttle = Throttle(device="gpu:0", source="nvml", windows=[
        ThrottleWindow(seconds=WINDOW_S if i in HOT else 0.0, fraction=1.0 if i in HOT else 0.0,
                       reasons={"sw_power_cap": WINDOW_S, **({"hw_thermal_slowdown": WINDOW_S} if i in HOT else {})})
        for i in range(n)])
    return run.model_copy(update={"thermal": Thermal(throttle=[throttle])})


def test_the_block_reports_the_drift_and_throttling_the_run_was_built_with() -> None:
    run = soaked_run()
    s = soak_block(run, SoakSpec(3600.0, WINDOW_S, 0.01))
    assert (s.requested_s, s.window_s, s.planned_windows, s.windows) == (3600.0, 60.0, 60, 60)
    assert s.duration_s == pytest.approx(3600.0)
    assert s.throughput is not None and s.efficiency is not None
    assert s.throughput.per_hour == pytest.approx(THROUGHPUT, abs=1e-12)
    assert s.efficiency.per_hour == pytest.approx(EFFICIENCY, abs=1e-12)
    assert s.throughput.verdict == "drifting" and s.efficiency.verdict == "stable"
    assert s.verdict == "drifting"
    assert s.throttled_fraction == pytest.approx(len(HOT) / N)
    assert s.throttled_s == pytest.approx(len(HOT) * WINDOW_S)
    (gpu,) = s.throttle
    assert gpu.reasons == pytest.approx({"hw_thermal_slowdown": len(HOT) * WINDOW_S, "sw_power_cap": N * WINDOW_S})
    assert gpu.covered_s == pytest.approx(3600.0)
    loose = soak_block(run, SoakSpec(3600.0, WINDOW_S, 0.03))
    assert loose.throughput is not None and loose.throughput.verdict == "stable" and loose.verdict == "stable"
    tight = soak_block(run, SoakSpec(3600.0, WINDOW_S, 0.004))
    assert tight.efficiency is not None and tight.efficiency.verdict == "drifting"
    doc = new_document({"hostname": "test"}).model_copy(update={"runs": [run.model_copy(update={"soak": s})]})
    assert schema_errors(parse_json(dumps(doc))) == []
    assert from_json(parse_json(dumps(doc))).runs[0].soak == s


def test_a_soak_cut_short_says_so_and_one_without_reasons_or_energy_says_what_is_unknown() -> None:
    run = soaked_run(2).model_copy(update={"thermal": None, "power": PowerBlock(measured=False, valid_for_sizing=False)})
    s = soak_block(run, SoakSpec(3600.0, WINDOW_S))
    assert s.windows == 2 and s.verdict == "inconclusive" and s.efficiency is None
    assert s.throttled_s is None and s.throttled_fraction is None and s.throttle == []
    assert any("2 of 60 windows measured" in n for n in s.notes)
    assert any("throttle" in n for n in s.notes) and any("efficiency" in n for n in s.notes)
    failed = RunHead("sha256d", "cpu", "hash").failed("failed", "setup failed")
    assert with_soak(failed, SoakSpec(60.0, 1.0)).soak is None
    assert with_soak(run, None).soak is None


def _findings(doc: Document) -> list[str]:
    return [f"{f.path}: {f.message}" for f in run_checks(doc, only={"soak"})]


def test_validate_recomputes_the_block_and_finds_each_figure_changed() -> None:
    run = with_soak(soaked_run(), SoakSpec(3600.0, WINDOW_S))
    doc = new_document({"hostname": "test"}).model_copy(update={"runs": [run]})
    assert _findings(doc) == []
    s = run.soak
    assert s is not None and s.throughput is not None
    forged = [
        s.model_copy(update={"throughput": s.throughput.model_copy(update={"per_hour": 0.0, "verdict": "stable"})}),
        s.model_copy(update={"throttled_fraction": 0.1}),
        s.model_copy(update={"throttle": []}),
        s.model_copy(update={"verdict": "stable"}),
        s.model_copy(update={"requested_s": 600.0, "planned_windows": 10}),
    ]
    where = ["throughput.per_hour", "throttled_fraction", "throttle", "verdict", "windows"]
    for soak, path in zip(forged, where):
        found = _findings(doc.model_copy(update={"runs": [run.model_copy(update={"soak": soak})]}))
        assert any(f.startswith(f"$.runs[0].soak.{path}") for f in found), (path, found)


@pytest.mark.parametrize(("text", "seconds"), [("2h", 7200.0), ("90m", 5400.0), ("45s", 45.0), ("1h30m", 5400.0),
                                               ("1.5h", 5400.0), ("2d", 172800.0), ("600", 600.0), (" 3S ", 3.0)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "says"), [("-1", "must be a positive duration"), ("abc", "not a duration"),
                                            ("0", "must be a positive"), ("2x", "not a duration"),
                                            ("nan", "must be a positive"), ("", "not a duration"),
                                            ("20d", "longer than one run record spans"), ("h", "not a duration")])
def test_bad_durations_are_one_line(text: str, says: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(text)
    assert says in str(info.value) and "\n" not in str(info.value) and str(info.value).startswith("--soak")


def test_a_plan_is_the_windows_that_cover_the_soak_within_what_a_run_holds() -> None:
    assert plan("3s", 0.5, 1.0).windows == 6
    assert plan("3.2s", 0.5, 1.0).windows == 7
    assert plan("2h", None, 1.0).window_s == default_window(7200.0, 1.0) == 72.0  # at most 100 windows
    assert plan("45s", None, 1.0).window_s == 1.0
    assert plan("2h", None, 120.0, 2.5) == SoakSpec(7200.0, 120.0, 0.025)
    for text, window, says in (("0.2s", 0.5, "shorter than one window"), ("30s", None, "shorter than one window"),
                               ("11d", 1.0, "more than one run holds"), ("1h", -1.0, "--window -1")):
        with pytest.raises(UsageError, match=says):
            plan(text, window, 60.0)
    with pytest.raises(UsageError, match="--drift-threshold 0"):
        plan("1h", None, 60.0, 0.0)


def test_a_trace_longer_than_a_record_holds_is_refused_naming_what_fits() -> None:
    check_trace(SoakSpec(5 * 3600.0, 60.0), 10.0)
    with pytest.raises(UsageError) as info:
        check_trace(SoakSpec(6 * 3600.0, 60.0), 10.0, 40.0)
    text = str(info.value)
    assert "217,000 power readings" in text and "(200,000)" in text and "at most 5.53 h" in text
    assert "--sample-hz 9.21 or less" in text and "\n" not in text
