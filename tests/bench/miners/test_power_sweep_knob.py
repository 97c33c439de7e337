"""The Whatsminer API v3 power limit as a knob, against a simulated v3 miner over real TCP (127.0.28.N:4433), and the
simulated miners' power curve it moves them along."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench.miners.protocol.client import identify
from bench.miners.protocol.knobs import firmware_of, miner_knob
from bench.miners.protocol.knobs.blocking import run
from bench.miners.protocol.knobs.whatsminer import WhatsminerPowerLimit
from bench.power.knobs import KnobFailed, KnobGuard, KnobRefused, check_before_change, reopen, restore_journaled
from bench.testing.miners import SimMiner
from bench.testing.power_curve import K_S19J_PRO, PowerCurve, Settle

PASSWORD = "v3-Kn0b-pw"
S19J = PowerCurve(96.0, 2850.0)


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SITEBENCH_MINER_PASSWORD", PASSWORD)
    monkeypatch.delenv("SITEBENCH_MINER_ACCOUNT", raising=False)
    return PASSWORD


def v3(host: str, **fields: Any) -> SimMiner:
    options: dict[str, Any] = {"model": "Whatsminer M60 VK30", "curve": S19J, "tau_s": 2.0, "password": PASSWORD}
    options.update(fields)
    return SimMiner(host, family="whatsminer-v3", **options)


def test_the_curve_goes_through_the_declared_points_and_scales_to_other_models() -> None:
    assert K_S19J_PRO == pytest.approx(0.6192, abs=1e-4)
    assert S19J.point(2850.0) == pytest.approx((96.0, 2850.0)) and S19J.point(1905.0) == pytest.approx((74.5, 1905.0))
    assert S19J.j_per_th(96.0) == pytest.approx(2850 / 96) and S19J.j_per_th(74.5) == pytest.approx(1905 / 74.5)
    assert S19J.point(4000.0) == S19J.point(2850.0), "a limit over stock leaves the miner at stock"
    assert S19J.gain_per_mw(1905.0) == pytest.approx((74.5 / 1905) / (96 / 2850) - 1) and S19J.best([2400, 1905, 2850]) == 1905
    s19pro = PowerCurve.for_model("Antminer S19 Pro")
    assert (s19pro.stock_ths, s19pro.stock_w) == (110.0, 3250.0), "scaled to the declared nameplate"
    assert s19pro.gain_per_mw(0.5 * 3250) == pytest.approx(S19J.gain_per_mw(0.5 * 2850)), "the same shape"


def test_the_settle_is_a_first_order_lag_whose_hashes_are_its_exact_integral() -> None:
    s = Settle(10.0, 96.0, 2850.0, 74.5, 1905.0, tau_s=3.0)
    assert s.ths(10.0) == 96.0 and s.ths(13.0) == pytest.approx(74.5 + 21.5 / math.e)
    assert s.watts(13.0) == pytest.approx(1905.0 + 945.0 / math.e) and not s.settled(13.0) and s.settled(40.0)
    assert s.terahashes(10.0, 110.0) == pytest.approx(74.5 * 100 + 21.5 * 3.0 * (1 - math.exp(-100 / 3)))
    assert s.terahashes(10.0, 12.0) + s.terahashes(12.0, 17.5) == pytest.approx(s.terahashes(10.0, 17.5))


def test_read_range_stock_set_and_the_miner_follows_the_curve(password: str, fleet: Any) -> None:
    miner = v3("127.0.28.1", limit_w=2600.0)
    fleet(miner)
    client = run(lambda: identify(miner.host, timeout_s=1.0))
    assert firmware_of(client.identity) == "whatsminer-v3"
    knob = miner_knob(client.identity, 1.0)
    assert isinstance(knob, WhatsminerPowerLimit) and knob.label == "miner.power_target on 127.0.28.1:4433"
    assert knob.read() == 2600.0 and knob.missing_permission() is None
    allowed = knob.allowed()
    assert (allowed.low, allowed.high, knob.stock()) == (1425.0, 2850.0, 2850.0), "up to the firmware's standard power"
    assert [knob.resolve(w) for w in ("1905", "stock", "max", "min")] == [1905.0, 2850.0, 2850.0, 1425.0]
    knob.set(1905.0)
    t = miner._t  # noqa: SLF001 - the instant the retarget took effect
    start, one_tau, settled = (miner.state(t + k * miner.tau_s) for k in (0, 1, 20))
    assert start.rate_hs == pytest.approx(S19J.ths_at(2600.0) * 1e12) and start.power_w == pytest.approx(2600.0)
    assert not one_tau.stable and one_tau.power_w == pytest.approx(1905.0 + 695.0 / math.e)
    assert settled.stable and settled.rate_hs == pytest.approx(74.5e12, rel=1e-3)
    assert settled.power_w == pytest.approx(1905.0, rel=1e-3)
    assert knob.read() == 1905.0 and miner.target_w == 1905.0
    assert knob.spec() == {"kind": "miner.power_target", "target": "127.0.28.1:4433", "firmware": "whatsminer-v3",
                           "host": "127.0.28.1", "port": 4433, "model": "Whatsminer M60 VK30"}
    assert PASSWORD not in repr(knob.spec()) and all("token" not in w for w in miner.writes)


def test_refused_before_anything_changes(password: str, fleet: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    miner = v3("127.0.28.2")
    fleet(miner)
    knob = WhatsminerPowerLimit(miner.host, timeout_s=1.0)
    with pytest.raises(KnobRefused, match=r"3200 W is outside the device's own range \(1425-2850 W"):
        check_before_change([knob], [(knob, 2400.0), (knob, 3200.0)])
    with pytest.raises(KnobRefused, match="whole number of W"):
        knob.resolve("2400.5")
    monkeypatch.delenv("SITEBENCH_MINER_PASSWORD")
    with pytest.raises(KnobRefused, match="SITEBENCH_MINER_PASSWORD"):
        check_before_change([knob], [(knob, 2400.0)])
    assert miner.writes == [] and miner.target_w == 2850.0


def test_a_firmware_without_the_command_or_a_range_is_refused(password: str, fleet: Any) -> None:
    def old(command: str, reply: dict[str, Any]) -> dict[str, Any]:
        return {"code": -2, "when": 1700000000, "desc": command, "msg": "Invalid command"} \
            if command == "get.miner.setting" else reply

    older = SimMiner("127.0.28.3", family="whatsminer-v3", model="Whatsminer M60 VK30", tamper=old)
    unknown = SimMiner("127.0.28.4", family="whatsminer-v3", model="Whatsminer M60 VK30", power_w=None)
    fleet(older, unknown)
    with pytest.raises(KnobRefused, match="does not answer get.miner.setting"):
        WhatsminerPowerLimit(older.host, timeout_s=1.0).allowed()
    with pytest.raises(KnobRefused, match="neither the firmware .* nor sitebench's catalog"):
        WhatsminerPowerLimit(unknown.host, model=unknown.model, timeout_s=1.0).allowed()
    with pytest.raises(KnobFailed, match="127.0.28.5:4433"):
        WhatsminerPowerLimit("127.0.28.5", timeout_s=0.5).read()  # nothing listens


def test_a_wrong_password_is_one_line_and_never_the_password(password: str, fleet: Any) -> None:
    miner = v3("127.0.28.6", password="another")
    fleet(miner)
    with pytest.raises(KnobRefused) as info:
        WhatsminerPowerLimit(miner.host, timeout_s=1.0).set(2000.0)
    assert "code -4 (invalid token)" in str(info.value) and "\n" not in str(info.value)
    assert "nothing was changed" in str(info.value)
    assert PASSWORD not in str(info.value) and miner.target_w == 2850.0


def test_a_change_the_miner_refused_is_not_put_back_since_nothing_changed(password: str, fleet: Any) -> None:
    """The guard journals the original, the miner refuses the write: the knob is closed as unchanged, so neither
    the end of the run nor recover writes to a miner that never changed (a wrong password would fail again)."""
    miner = v3("127.0.28.7", password="another")
    fleet(miner)
    lines: list[dict[str, Any]] = []
    knob = WhatsminerPowerLimit(miner.host, timeout_s=1.0)
    with KnobGuard(write=lines.append) as guard, pytest.raises(KnobRefused):
        guard.apply(knob, 2000.0)
    assert guard.failures == [] and guard.restored == []
    assert [line["type"] for line in lines] == ["knob", "knob_restored"] and lines[-1]["unchanged"] is True
    assert restore_journaled(lines) == ([], []) and miner.target_w == 2850.0


def test_recover_reopens_it_from_its_spec_and_the_environment(password: str, fleet: Any) -> None:
    miner = v3("127.0.28.7", limit_w=2500.0)
    fleet(miner)
    journal: list[dict[str, Any]] = []
    guard = KnobGuard(journal.append)
    assert guard.apply(WhatsminerPowerLimit(miner.host, timeout_s=1.0), 2000.0) == 2000.0  # then killed: no restore
    assert [x["type"] for x in journal] == ["knob", "knob_set"] and journal[0]["original"] == 2500.0
    assert reopen(journal[0]["spec"]).read() == 2000.0
    restored, failures = restore_journaled(journal)
    assert failures == [] and restored == ["miner.power_target on 127.0.28.7:4433: restored to 2500.0"]
    assert miner.target_w == 2500.0
