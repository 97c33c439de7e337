"""validate checks each point's setting against its read-back, its power against its limit, and recomputes the frontier."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import main
from bench.record import Document, Run, Setting, write_result
from bench.sizing.declare import DeclaredPoint, declared_sweep
from bench.validation import run_checks
from bench.validation.settings import readback_problem
from tests.records import document, meter, run

MINE = ("setting-readback", "setting-limit", "envelope")


def limited(limit: float, watts: float, *, read_back: float | str | None = None, over: bool = False,
            accuracy: float | None = 0.05, stock: bool = False, rate: float = 100.0, knob: str = "gpu.power_limit",
            unit: str = "W", requested: float | str | None = None) -> Run:
    """A run on gpu:0 metered by a gpu:0 meter of ``accuracy``, at a power limit of ``limit`` W."""
    setting = Setting(knob=knob, target="gpu:0", unit=unit, requested=limit if requested is None else requested,
                      read_back=limit if read_back is None else read_back, original=700.0, stock=stock,
                      limit_w=limit if unit == "W" else None, over_limit=over)
    return run("decode", "cuda:0", rate=rate, watts=watts, unit="token", scope="gpu:0",
               meters=[meter("gpu:0", watts, 3.0, accuracy=accuracy)], setting=setting)


def found(doc: Document, level: str = "error") -> list[tuple[str, str, str]]:
    return [(f.check, f.path, f.message) for f in run_checks(doc) if f.check in MINE and f.level == level]


def test_a_clean_sweep_has_no_errors_and_a_note_with_its_frontier() -> None:
    doc = document([limited(300, 290), limited(400, 380, rate=110), limited(700, 520, stock=True, rate=120)])
    assert found(doc) == []
    notes = found(doc, "note")
    assert len(notes) == 1 and "3 point(s) sized; frontier recomputed: 300 W, 400 W, 700 W (stock)" in notes[0][2]


def test_runs_without_a_setting_get_no_setting_finding() -> None:
    assert [f for f in run_checks(document([run(), run()])) if f.check in MINE] == []


@pytest.mark.parametrize(("requested", "read_back", "knob", "ok"), [
    (300.0, 302.9, "gpu.power_limit", True),        # within 1%
    (300.0, 304.0, "gpu.power_limit", False),       # 1.3% off
    (1410.0, 1395.0, "gpu.sm_clocks", True),        # one 15 MHz step
    (1410.0, 1380.0, "gpu.sm_clocks", False),       # two steps
    ("low-power", "low-power", "miner.mode", True),
    ("low-power", "normal", "miner.mode", False),
    ("low-power", 1500.0, "miner.mode", False),      # a number where a mode was asked
])
def test_read_back_within_one_percent_or_a_step_and_modes_equal(requested: float | str, read_back: float | str,
                                                                  knob: str, ok: bool) -> None:
    unit = "mode" if isinstance(requested, str) else "MHz" if "clocks" in knob else "W"
    s = Setting(knob=knob, target="gpu:0", unit=unit, requested=requested, read_back=read_back)
    assert (readback_problem(s) is None) is ok


def test_a_read_back_off_its_request_is_an_error_naming_the_run() -> None:
    doc = document([limited(300, 290, read_back=250.0), limited(700, 520, stock=True)])
    (chk, path, msg), *_ = found(doc)
    assert chk == "setting-readback" and path == "$.runs[0].setting.read_back" and "300 W asked for, 250 W" in msg


def test_a_measured_point_without_a_read_back_is_an_error() -> None:
    r = limited(300, 290)
    r = r.model_copy(update={"setting": r.setting.model_copy(update={"read_back": None})})  # type: ignore[union-attr]
    assert [c for c, _, _ in found(document([r]))] == ["setting-readback"]


def test_over_limit_must_follow_from_the_capped_meter_and_its_accuracy() -> None:
    # 300 W limit, meter ±5%: the line is 300 + 0.05 x P.
    honest_over = limited(300, 330, over=True)      # 330 > 300 + 16.5
    honest_within = limited(300, 310, over=False)   # 310 < 300 + 15.5
    assert found(document([honest_over, honest_within])) == []
    hidden = limited(300, 330, over=False)
    invented = limited(300, 310, over=True)
    out = found(document([hidden, invented]))
    assert [(c, p) for c, p, _ in out] == [("setting-limit", "$.runs[0].setting.over_limit"),
                                           ("setting-limit", "$.runs[1].setting.over_limit")]
    assert "above the 300 W limit" in out[0][2] and "within the 300 W limit" in out[1][2]


def test_limit_w_must_be_the_value_held_and_over_limit_needs_a_limit() -> None:
    r = limited(300, 290)
    s = r.setting
    assert s is not None
    wrong = r.model_copy(update={"setting": s.model_copy(update={"limit_w": 500.0})})
    none = r.model_copy(update={"setting": s.model_copy(update={"limit_w": None, "over_limit": True})})
    out = found(document([wrong, none]))
    assert [(c, p) for c, p, _ in out] == [("setting-limit", "$.runs[0].setting.limit_w"),
                                           ("setting-limit", "$.runs[1].setting.over_limit")]


def test_over_limit_without_a_capped_meter_needs_a_measured_power_above_the_limit() -> None:
    s = Setting(knob="gpu.power_limit", target="gpu:0", unit="W", requested=300.0, read_back=300.0, limit_w=300.0,
                over_limit=True)
    node = run("decode", "cuda:0", rate=100.0, watts=250.0, unit="token", scope="node", setting=s)
    assert [c for c, _, _ in found(document([node]))] == ["setting-limit"]


def test_two_stock_values_in_one_envelope_are_an_error_and_an_over_limit_frontier_point_a_note() -> None:
    doc = document([limited(300, 330, over=True), limited(400, 380, stock=True, rate=110),
                    limited(700, 520, stock=True, rate=120)])
    assert [c for c, _, _ in found(doc)] == ["envelope"]
    assert any("on the frontier but ran over its limit" in m for _, _, m in found(doc, "note"))


def test_a_declared_sweep_validates_and_its_frontier_is_noted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = declared_sweep("Bitmain Antminer S19j Pro", "sha256d",
                         [DeclaredPoint(96e12, 2850, True), DeclaredPoint(74.5e12, 1905)], unit="hash")
    path = write_result(tmp_path / "s.json", doc)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "note: Bitmain Antminer S19j Pro, sha256d, declared.power: 2 point(s) sized; frontier recomputed: " \
           "1905 W, 2850 W (stock)" in out
    assert "ok (sitebench.result/2; declared" in out


def test_one_setting_over_two_cpu_packages_caps_their_sum() -> None:
    """A CPU sweep on a two-package machine holds 60 W on each zone: its limit_w is 120 W, not an error."""
    setting = Setting(knob="cpu.package_limit", target="intel-rapl:0+intel-rapl:1", unit="W", requested=60.0,
                      read_back=60.0, original=95.0, limit_w=120.0)
    r = run("sha256", "cpu", rate=100.0, watts=110.0, unit="hash", scope="cpu-package:0",
            meters=[meter("cpu-package:0", 110.0, 3.0, accuracy=0.05)], setting=setting)
    assert [f for f in found(document([r])) if f[1].endswith("limit_w")] == []
    wrong = r.model_copy(update={"setting": setting.model_copy(update={"limit_w": 60.0})})
    assert [p for _, p, _ in found(document([wrong]))] == ["$.runs[0].setting.limit_w"]


def test_a_miner_at_its_target_by_its_firmwares_figure_is_judged_as_miners_run_judged_it() -> None:
    """A firmware figure states no accuracy: +/-10% is assumed by miners run and by validate alike, so 1905.1 W
    against a 1905 W target is neither over nor noted; 2200 W is, and must be flagged."""
    def at(watts: float, over: bool) -> Run:
        setting = Setting(knob="miner.power_target", target="127.0.0.5:4028", unit="W", requested=1905.0,
                          read_back=1905.0, original=2850.0, limit_w=1905.0, over_limit=over)
        return run("sha256d", "asic", rate=74.5e12, watts=watts, unit="hash", scope="node",
                   meters=[meter("node", watts, 3.0, accuracy=None)], setting=setting)

    def over_notes(r: Run) -> list[str]:
        return [m for _, p, m in found(document([r]), "note") if p.endswith("over_limit")]

    assert over_notes(at(1905.1, False)) == []
    assert len(over_notes(at(2200.0, False))) == 1
    assert found(document([at(2200.0, True)])) == []
