"""LuxOS profiles against a simulated LuxOS miner (cgminer-family JSON over real TCP on 127.0.26.N:4028)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bench.miners.protocol.client import identify
from bench.miners.protocol.knobs import miner_knob
from bench.miners.protocol.knobs.blocking import run
from bench.miners.protocol.knobs.luxos import LuxosProfile
from bench.power.knobs import KnobFailed, KnobGuard, KnobRefused, check_before_change, reopen, restore_journaled
from bench.testing.luxos_server import COMMANDS, LuxosServer
from bench.testing.miners import SimFleet, SimMiner

Sim = Callable[..., SimMiner]


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_profiles_are_its_values_and_default_is_stock(sim: Sim) -> None:
    miner = sim("luxos")
    with LuxosServer(miner):
        knob = LuxosProfile(miner.host)
        assert (knob.kind, knob.unit, knob.label) == ("miner.mode", "mode", f"miner.mode on {miner.host}:4028")
        assert knob.missing_permission() is None, "LuxOS's logon asks no password"
        assert knob.read() == "default" and knob.stock() == "default"
        assert knob.allowed().modes == ("380MHz", "420MHz", "460MHz", "default")
        assert [knob.resolve(w) for w in ("stock", "420MHz", "default")] == ["default", "420MHz", "default"]
        assert knob.limit_w("420MHz") is None


def test_a_sweep_turns_atm_off_and_restoring_turns_it_back_on(sim: Sim) -> None:
    miner = sim("luxos")
    with LuxosServer(miner) as server:
        knob = LuxosProfile(miner.host)
        journal: list[dict[str, Any]] = []
        with KnobGuard(journal.append) as guard:
            assert guard.apply(knob, "420MHz") == "420MHz"
            assert server.atm is False, "ATM would move the point under the sweep"
            assert miner.target_w == pytest.approx(0.8 * 2850.0)
            assert guard.apply(knob, "460MHz") == "460MHz"
            assert server.session is None, "each session logged off"
        assert (server.profile, server.atm, miner.target_w) == ("default", True, 2850.0)
        assert journal[0]["spec"] == {"kind": "miner.mode", "target": f"{miner.host}:4028", "firmware": "luxos",
                                      "host": miner.host, "port": 4028, "atm_enabled": True}
        assert server.requests.count("atmset") == 2, "off once, on once"


def test_atm_left_off_when_it_was_off(sim: Sim) -> None:
    miner = sim("luxos")
    with LuxosServer(miner, atm=False) as server:
        with KnobGuard(lambda line: None) as guard:
            guard.apply(LuxosProfile(miner.host), "380MHz")
        assert (server.profile, server.atm) == ("default", False)
        assert "atmset" not in server.requests


def test_recover_restores_the_profile_and_atm_after_a_kill(sim: Sim) -> None:
    miner = sim("luxos")
    with LuxosServer(miner) as server:
        journal: list[dict[str, Any]] = []
        KnobGuard(journal.append).apply(LuxosProfile(miner.host), "380MHz")  # then killed
        assert (server.profile, server.atm) == ("380MHz", False)
        knob = reopen(journal[0]["spec"])
        assert isinstance(knob, LuxosProfile) and knob.atm_original is True
        restored, failures = restore_journaled(journal)
        assert failures == [] and restored == [f"miner.mode on {miner.host}:4028: restored to 'default'"]
        assert (server.profile, server.atm, miner.target_w) == ("default", True, 2850.0)


def test_an_open_session_is_used_and_left_open(sim: Sim) -> None:
    miner = sim("luxos")
    with LuxosServer(miner, atm=False) as server:
        server.session = "0pen5e55"
        LuxosProfile(miner.host).set("460MHz")
        assert server.profile == "460MHz" and server.session == "0pen5e55"
        assert "logon" not in server.requests and "logoff" not in server.requests


def test_the_hash_rate_follows_the_profile(sim: Sim) -> None:
    miner = sim("luxos")
    curve = miner.curve
    assert curve is not None
    with LuxosServer(miner, atm=False):
        LuxosProfile(miner.host).set("380MHz")
        settled = miner.state(miner._t + 20 * miner.tau_s)  # noqa: SLF001 - computed, not waited for
        assert settled.rate_hs == pytest.approx(curve.ths_at(0.7 * 2850.0) * 1e12, rel=1e-3)
        assert settled.power_w == pytest.approx(0.7 * 2850.0, rel=1e-3)


def test_an_unknown_profile_is_refused_before_anything_changes(sim: Sim) -> None:
    miner = sim("luxos")
    with LuxosServer(miner) as server:
        knob = LuxosProfile(miner.host)
        with pytest.raises(KnobRefused) as exc:
            check_before_change([knob], [(knob, "turbo")])
        assert "'turbo' is not one of its modes (380MHz, 420MHz, 460MHz, default)" in one_line(exc)
        with pytest.raises(KnobRefused) as exc:
            knob.set("bad,profile")
        assert "is not a LuxOS profile name" in one_line(exc)
        assert "profileset" not in server.requests and "atmset" not in server.requests


@pytest.mark.parametrize("missing", ["profiles", "profileset", "config"])
def test_a_firmware_without_the_command(sim: Sim, missing: str) -> None:
    miner = sim("luxos")
    with LuxosServer(miner, commands=COMMANDS - {missing}) as server:
        knob = LuxosProfile(miner.host)
        with pytest.raises(KnobRefused) as exc:
            knob.allowed()
            knob.read()
            knob.set("420MHz")
        assert f"the firmware has no {missing!r} command (Invalid command): not LuxOS" in one_line(exc)
        assert server.profile == "default"


def test_stock_cgminer_firmware_has_no_profiles(sim: Sim) -> None:
    miner = sim("antminer")
    with SimFleet([miner]):
        with pytest.raises(KnobRefused) as exc:
            LuxosProfile(miner.host).allowed()
        assert "the firmware has no 'profiles' command" in one_line(exc)


def test_a_refused_profileset_is_one_line(sim: Sim) -> None:
    miner = sim("luxos")
    with LuxosServer(miner, profiles={"default": 1.0, "460MHz": 0.9}) as server:
        server.fractions.pop("460MHz")  # the miner forgets a profile between the check and the change
        with pytest.raises(KnobRefused) as exc:
            LuxosProfile(miner.host).set("460MHz")
        assert "profileset 460MHz refused by the miner (Unknown profile 460MHz)" in one_line(exc)
        assert server.session is None, "logged off all the same"


def test_unreachable_is_a_failure(sim: Sim) -> None:
    miner = sim("luxos")
    with pytest.raises(KnobFailed) as exc:
        LuxosProfile(miner.host, timeout_s=1.0).read()
    assert one_line(exc).startswith(f"miner.mode on {miner.host}:4028: config: {miner.host}:4028: connection refused")


def test_the_factory_chooses_it_for_luxos(sim: Sim) -> None:
    miner = sim("luxos")
    with LuxosServer(miner):
        client = run(lambda: identify(miner.host, timeout_s=2.0))
        assert client.identity.family == "luxos"
        knob = miner_knob(client.identity)
        assert isinstance(knob, LuxosProfile) and knob.read() == "default"


def test_a_poll_shows_the_profiles_point(sim: Sim) -> None:
    miner = sim("luxos", tau_s=0.0)  # settles at once: the poll needs no wait
    curve = miner.curve
    assert curve is not None
    with LuxosServer(miner):
        client = run(lambda: identify(miner.host, timeout_s=2.0))
        with KnobGuard(lambda line: None) as guard:
            guard.apply(miner_knob(client.identity), "420MHz")
            poll = run(client.poll)
            assert poll.rates_hs["5s"] == pytest.approx(curve.ths_at(0.8 * 2850.0) * 1e12, rel=1e-3)
            assert poll.power_w == pytest.approx(0.8 * 2850.0, abs=1.0)
        assert run(client.poll).power_w == pytest.approx(2850.0, abs=1.0)


def test_hostile_replies_are_refused_or_left_out(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    miner = sim("luxos")
    with LuxosServer(miner) as server:
        knob = LuxosProfile(miner.host)
        real = server._profiles  # noqa: SLF001

        def profiles(parameter: str) -> dict[str, Any]:
            reply = real(parameter)
            reply["PROFILES"] += [{"Profile Name": "a,b"}, {"Profile Name": 7}, "junk", {"Profile Name": "x" * 300}]
            return reply

        monkeypatch.setattr(server, "_profiles", profiles)
        assert knob.allowed().modes == ("380MHz", "420MHz", "460MHz", "default"), "names it could not send back are left out"
        monkeypatch.setattr(server, "_config", lambda parameter: {"STATUS": [{"STATUS": "S"}], "CONFIG": [{"Profile": 5}]})
        with pytest.raises(KnobFailed, match="config names no profile"):
            knob.read()
        monkeypatch.setattr(server, "_atm", lambda parameter: {"STATUS": [{"STATUS": "S"}], "ATM": [{"Enabled": "yes"}]})
        with pytest.raises(KnobFailed, match="atm did not say whether ATM is enabled"):
            knob.set("460MHz")
        assert server.profile == "default"


def test_called_from_inside_an_event_loop(sim: Sim) -> None:
    miner = sim("luxos")

    async def sweep_step() -> Any:
        return LuxosProfile(miner.host).read()  # a synchronous knob, from asyncio code

    with LuxosServer(miner):
        assert asyncio.run(sweep_step()) == "default"
