"""Per-miner qualify rules on synthetic miner runs: a missing chip FAILS by default, every limit says which
figure broke it, a figure a rule needs but nobody recorded fails, and outliers are judged within a model."""

from __future__ import annotations

import pytest

from bench.errors import UsageError
from bench.miners.measure.outcome import analyse
from bench.miners.protocol.model import Identity
from bench.miners.record.runrecord import miner_run
from bench.qualify.miners import MinerRules, check
from bench.qualify.spec import parse_spec
from bench.qualify.verdict import qualify
from bench.record import Run
from tests.bench.miners.record.test_record import M50, PLAN, S19, doc, polls


def run_of(identity: Identity, **kw: object) -> Run:
    return miner_run(analyse(identity, polls(identity, **kw), PLAN), PLAN, 100.0)  # type: ignore[arg-type]


def test_a_missing_chip_fails_by_default_and_limits_name_the_figure() -> None:
    good, short = run_of(M50, power=3300.0), run_of(M50, power=3300.0, chips=(114, 113, 114))
    assert check(good, MinerRules()) == ([], [])
    reasons, _ = check(short, MinerRules())
    assert reasons == ["1 chip(s) missing: 341 of 342 present (at most 0 may be missing)"]
    assert check(short, MinerRules(max_missing_chips=1))[0] == []
    reasons, notes = check(good, MinerRules(min_ths=120, max_j_per_th=30, max_temp_c=80, max_hw_error_rate=0.0))
    assert reasons == ["hash rate 100 TH/s below minimum 120 TH/s", "33 J/TH above maximum 30 J/TH (power: firmware_estimate)",
                       "82.0 °C above maximum 80 °C"]
    assert notes == ["J/TH from firmware_estimate power, not metered"]


def test_what_a_rule_needs_but_the_run_lacks_fails_and_failed_runs_fail() -> None:
    bare = run_of(S19).model_copy(update={"metrics": {}})
    bare.power.meters = [m.model_copy(update={"telemetry_summary": None}) for m in bare.power.meters]
    reasons, _ = check(bare, MinerRules(max_temp_c=90))
    assert reasons == ["temperature not recorded (maximum 90 °C)"]
    failed = miner_run(analyse(S19, polls(S19, n=5), PLAN), PLAN, 100.0)
    assert check(failed, MinerRules())[0][0].startswith("run failed: no valid measured window")


def test_the_spec_table_and_outliers_within_a_model() -> None:
    spec = parse_spec({"miners": {"min_ths": 90, "max_missing_chips": 2}, "outliers": {"k": 3}})
    assert spec.miners == MinerRules(min_ths=90.0, max_missing_chips=2)
    for bad, message in (({"max_missing_chips": 1.5}, "whole number"), ({"min_ths": -1}, "positive"),
                         ({"min_th": 1}, "unknown key miners.min_th")):
        with pytest.raises(UsageError, match=message):
            parse_spec({"miners": bad})
    runs = [run_of(M50, power=w) for w in (3300.0, 3310.0, 3290.0, 3305.0, 3900.0)]
    runs = [r.model_copy(update={"device": f"asic:10.0.0.{i}"}) for i, r in enumerate(runs)]
    other = run_of(S19, power=5000.0).model_copy(update={"device": "asic:10.0.1.1"})
    units, nodes, fleet = qualify(doc(*runs, other), spec)
    verdicts = {v.key: v for v in units}
    assert not nodes and all(v.level == "miner" for v in units)
    assert not verdicts["asic:10.0.0.4"].passed and "outlier: sha256d on Whatsminer M50.VH50 efficiency" in \
        verdicts["asic:10.0.0.4"].reasons[0]
    assert verdicts["asic:10.0.1.1"].passed, "a model of its own is not an outlier of the others"
    assert fleet.reasons == ["miner asic:10.0.0.4 failed"]
