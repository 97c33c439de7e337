"""The Braiins OS+ power target against a simulated miner's gRPC API (a real grpc server on 127.0.26.N:50051)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bench.miners.protocol.client import identify
from bench.miners.protocol.knobs import miner_knob
from bench.miners.protocol.knobs.blocking import run
from bench.miners.protocol.knobs.braiins import BraiinsPowerTarget
from bench.miners.protocol.model import Identity
from bench.power.knobs import KnobFailed, KnobGuard, KnobRefused, check_before_change, reopen, restore_journaled
from bench.testing.braiins_server import METHODS, BraiinsServer
from bench.testing.miners import SimFleet, SimMiner

pytest.importorskip("grpc", reason="grpcio is the braiins extra")

Sim = Callable[..., SimMiner]


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_read_range_set_and_restore(sim: Sim, password: str) -> None:
    miner = sim("braiins")
    with BraiinsServer(miner, password=password) as server:
        knob = BraiinsPowerTarget(miner.host)
        assert (knob.kind, knob.unit, knob.label) == ("miner.power_target", "W", f"miner.power_target on {miner.host}:50051")
        assert knob.missing_permission() is None
        assert knob.read() == 2850.0
        allowed = knob.allowed()
        assert (allowed.low, allowed.high) == (1425.0, 2850.0), "the tuner's own constraints"
        assert knob.stock() == 2850.0
        assert [knob.resolve(w) for w in ("stock", "max", "min", "2400")] == [2850.0, 2850.0, 1425.0, 2400.0]
        assert knob.limit_w(2400.0) == 2400.0
        journal: list[dict[str, Any]] = []
        with KnobGuard(journal.append) as guard:
            assert guard.apply(knob, 1905.0) == 1905.0, "read back from GetTunerState"
            assert miner.target_w == 1905.0
        assert knob.read() == 2850.0 and miner.target_w == 2850.0, "restored on exit"
        assert [line["type"] for line in journal] == ["knob", "knob_set", "knob_restored"]
        assert journal[0]["spec"] == {"kind": "miner.power_target", "target": f"{miner.host}:50051",
                                      "firmware": "braiins", "host": miner.host, "port": 50051}
        assert password not in json.dumps(journal)
        assert server.calls.count("Login") == 1, "one token for the knob's life"
        assert server.calls.count("GetConstraints") == 1, "constraints asked once"


def test_hash_rate_and_power_follow_the_curve_as_they_settle(sim: Sim, password: str) -> None:
    miner = sim("braiins")
    curve = miner.curve
    assert curve is not None
    with BraiinsServer(miner, password=password):
        knob = BraiinsPowerTarget(miner.host)
        knob.set(1905.0)
        t = miner._t  # noqa: SLF001 - the instant the retarget took effect
        # the simulated miner's clock only goes forward: asked in order, at instants computed, not waited for
        start, one_tau, settled = (miner.state(t + k * miner.tau_s) for k in (0, 1, 20))
        assert start.rate_hs == pytest.approx(96e12, rel=1e-6) and start.power_w == pytest.approx(2850.0)
        assert not one_tau.stable, "still tuning"
        assert one_tau.power_w == pytest.approx(1905.0 + (2850.0 - 1905.0) / 2.718281828, rel=1e-6), "first-order lag"
        assert settled.rate_hs == pytest.approx(74.5e12, rel=1e-3), "the declared underclocked point"
        assert settled.power_w == pytest.approx(1905.0, rel=1e-3) and settled.stable


def test_reopened_from_the_journal_after_a_kill(sim: Sim, password: str) -> None:
    miner = sim("braiins")
    with BraiinsServer(miner, password=password):
        journal: list[dict[str, Any]] = []
        guard = KnobGuard(journal.append)
        guard.apply(BraiinsPowerTarget(miner.host), 2000.0)  # then killed: no restore
        assert miner.target_w == 2000.0
        assert reopen(journal[0]["spec"]).read() == 2000.0
        restored, failures = restore_journaled(journal)
        assert failures == [] and restored == [f"miner.power_target on {miner.host}:50051: restored to 2850.0"]
        assert miner.target_w == 2850.0


def test_out_of_range_is_refused_before_anything_changes(sim: Sim, password: str) -> None:
    miner = sim("braiins")
    with BraiinsServer(miner, password=password):
        knob = BraiinsPowerTarget(miner.host)
        with pytest.raises(KnobRefused) as exc:
            check_before_change([knob], [(knob, 3200.0)])
        assert "3200 W is outside the device's own range (1425-2850 W)" in one_line(exc)
        with pytest.raises(KnobRefused) as exc:
            knob.set(1000.0)  # past the check: the miner itself refuses it
        assert "refused by the miner [INVALID_ARGUMENT: power target 1000 W is out of range" in one_line(exc)
        assert miner.target_w == 2850.0


def test_wrong_password_and_no_password(sim: Sim, password: str, monkeypatch: pytest.MonkeyPatch) -> None:
    miner = sim("braiins")
    with BraiinsServer(miner, password="another") as server:
        knob = BraiinsPowerTarget(miner.host)
        with pytest.raises(KnobRefused) as exc:
            check_before_change([knob], [(knob, 2400.0)])
        line = one_line(exc)
        assert "Login refused: wrong account or password" in line and "UNAUTHENTICATED" in line
        assert password not in line
        monkeypatch.delenv("SITEBENCH_MINER_PASSWORD")
        with pytest.raises(KnobRefused) as exc:
            check_before_change([knob], [(knob, 2400.0)])
        assert "no miner password: set SITEBENCH_MINER_PASSWORD" in one_line(exc)
        assert "changing it needs the miner's API password in SITEBENCH_MINER_PASSWORD" in one_line(exc)
        assert "SetPowerTarget" not in server.calls and miner.target_w == 2850.0


def test_another_account_from_the_environment(sim: Sim, password: str, monkeypatch: pytest.MonkeyPatch) -> None:
    miner = sim("braiins")
    monkeypatch.setenv("SITEBENCH_MINER_ACCOUNT", "admin")
    with BraiinsServer(miner, account="admin", password=password):
        assert BraiinsPowerTarget(miner.host).read() == 2850.0
    with BraiinsServer(miner, account="root", password=password):
        with pytest.raises(KnobRefused, match="wrong account or password"):
            BraiinsPowerTarget(miner.host).read()


@pytest.mark.parametrize("missing, needs", [("SetPowerTarget", "SetPowerTarget"),
                                            ("GetConstraints", "GetConstraints"), ("GetTunerState", "GetTunerState")])
def test_a_firmware_without_the_method(sim: Sim, password: str, missing: str, needs: str) -> None:
    miner = sim("braiins")
    with BraiinsServer(miner, password=password, methods=METHODS - {missing}):
        knob = BraiinsPowerTarget(miner.host)
        with pytest.raises(KnobRefused) as exc:
            knob.allowed()
            knob.read()
            knob.set(2400.0)
        assert f"the firmware has no {needs} (gRPC UNIMPLEMENTED)" in one_line(exc)
        assert miner.target_w == 2850.0


@pytest.mark.parametrize("options, why", [({"tuner_mode": "hashrate"}, "in hashrate target mode, not power-target"),
                                          ({"tuner_enabled": False}, "its tuner is disabled")])
def test_a_tuner_that_holds_no_power_target(sim: Sim, password: str, options: dict[str, Any], why: str) -> None:
    miner = sim("braiins")
    with BraiinsServer(miner, password=password, **options):
        with pytest.raises(KnobRefused) as exc:
            BraiinsPowerTarget(miner.host).read()
        assert why in one_line(exc)


def test_unreachable_is_a_failure_naming_the_miner(sim: Sim, password: str) -> None:
    miner = sim("braiins")
    knob = BraiinsPowerTarget(miner.host, timeout_s=1.0)
    with pytest.raises(KnobFailed) as exc:
        knob.read()
    assert one_line(exc).startswith(f"miner.power_target on {miner.host}:50051: Login: no answer (UNAVAILABLE")
    restored, failures = restore_journaled([{"type": "knob", "label": knob.label, "spec": knob.spec(), "unit": "W",
                                             "original": 2850.0}])
    assert restored == [] and failures[0].startswith(f"{knob.label}: could not restore 2850.0: ")


def test_the_factory_chooses_it_for_braiins_os() -> None:
    identity = Identity("127.0.26.250", 4028, "cgminer", "braiins", "Bitmain", "Antminer S19j Pro", "Braiins OS 24.03")
    knob = miner_knob(identity)
    assert isinstance(knob, BraiinsPowerTarget) and knob.port == 50051 and knob.timeout_s >= 10.0


def test_found_on_the_lan_set_and_polled(sim: Sim, password: str) -> None:
    """identify (cgminer API on 4028) -> the factory's knob (gRPC on 50051) -> a poll shows the new point."""
    miner = sim("braiins", tau_s=0.0)  # settles at once: the poll needs no wait
    curve = miner.curve
    assert curve is not None
    with SimFleet([miner]), BraiinsServer(miner, password=password):
        client = run(lambda: identify(miner.host, timeout_s=2.0))
        assert client.identity.family == "braiins"
        knob = miner_knob(client.identity)
        with KnobGuard(lambda line: None) as guard:
            guard.apply(knob, 2000.0)
            poll = run(client.poll)
            assert poll.rates_hs["5s"] == pytest.approx(curve.ths_at(2000.0) * 1e12, rel=1e-3)
            assert poll.power_w == pytest.approx(2000.0, abs=1.0)
        poll = run(client.poll)
        assert poll.rates_hs["5s"] == pytest.approx(96e12, rel=1e-3) and poll.power_w == pytest.approx(2850.0, abs=1.0)
