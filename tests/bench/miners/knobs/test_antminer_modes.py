"""Stock Antminer work modes against a simulated web interface (real HTTP with digest auth on 127.0.26.N:8080)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bench.miners.protocol.knobs import miner_knob
from bench.miners.protocol.knobs.antminer_modes import AntminerMode
from bench.miners.protocol.knobs.digest_http import WebError, exchange
from bench.miners.protocol.model import Identity
from bench.power.knobs import KnobFailed, KnobGuard, KnobRefused, check_before_change, reopen, restore_journaled
from bench.testing.antminer_web import CONFIG, AntminerWeb
from bench.testing.miners import SimMiner

Sim = Callable[..., SimMiner]
PORT = 8080


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_modes_read_set_and_restore(sim: Sim, password: str) -> None:
    miner = sim("antminer")
    with AntminerWeb(miner, port=PORT, password=password) as web:
        knob = AntminerMode(miner.host, PORT)
        assert (knob.kind, knob.unit, knob.label) == ("miner.mode", "mode", f"miner.mode on {miner.host}:{PORT}")
        assert knob.read() == "normal" and knob.stock() == "normal"
        assert knob.allowed().modes == ("normal", "low-power")
        journal: list[dict[str, Any]] = []
        with KnobGuard(journal.append) as guard:
            assert guard.apply(knob, "low-power") == "low-power"
            assert web.mode == 3
            assert miner.target_w == pytest.approx(1905.0), "MODELLED: low power at the declared underclocked point"
        assert web.mode == 0 and miner.target_w == pytest.approx(2850.0) and knob.read() == "normal"
        assert journal[0]["spec"] == {"kind": "miner.mode", "target": f"{miner.host}:{PORT}", "firmware": "antminer",
                                      "host": miner.host, "port": PORT}
        assert password not in json.dumps(journal)


def test_the_rest_of_the_configuration_is_carried_over(sim: Sim, password: str) -> None:
    miner = sim("antminer")
    with AntminerWeb(miner, port=PORT, password=password) as web:
        AntminerMode(miner.host, PORT).set("low-power")
        (posted,) = web.posted
        assert posted == {"pools": CONFIG["pools"], "bitmain-fan-ctrl": False, "bitmain-fan-pwm": "100",
                          "freq-level": "100", "miner-mode": 3}
        assert web.conf["pools"] == CONFIG["pools"], "the firmware takes the whole configuration: pools kept"


def test_sleep_is_never_a_sweep_point(sim: Sim, password: str) -> None:
    miner = sim("antminer")
    with AntminerWeb(miner, port=PORT, password=password, mode=1) as web:
        knob = AntminerMode(miner.host, PORT)
        with pytest.raises(KnobRefused) as exc:
            knob.resolve("sleep")
        assert "'sleep' is not a sweep point: a sleeping miner hashes nothing" in one_line(exc)
        with pytest.raises(KnobRefused, match="'sleep' is not one of its modes"):
            check_before_change([knob], [(knob, "sleep")])
        assert knob.read() == "sleep", "a miner found asleep..."
        with KnobGuard(lambda line: None) as guard:
            guard.apply(knob, "normal")
        assert web.mode == 1, "...is put back to sleep"


def test_a_mode_number_beyond_the_known_ones_is_restored_as_it_was(sim: Sim, password: str) -> None:
    miner = sim("antminer")
    with AntminerWeb(miner, port=PORT, password=password) as web:
        web.conf["bitmain-work-mode"] = "2"
        knob = AntminerMode(miner.host, PORT)
        assert knob.read() == "mode-2"
        with pytest.raises(KnobRefused) as exc:  # the simulated firmware knows 0, 1 and 3 only
            knob.restore("mode-2")
        assert "set_miner_conf mode-2 refused by the miner (invalid miner-mode 2)" in one_line(exc)
        assert web.posted[-1]["miner-mode"] == 2, "sent back as the number it was"


def test_recover_after_a_kill(sim: Sim, password: str) -> None:
    miner = sim("antminer")
    with AntminerWeb(miner, port=PORT, password=password) as web:
        journal: list[dict[str, Any]] = []
        KnobGuard(journal.append).apply(AntminerMode(miner.host, PORT), "low-power")  # then killed
        assert isinstance(reopen(journal[0]["spec"]), AntminerMode)
        restored, failures = restore_journaled(journal)
        assert failures == [] and restored == [f"miner.mode on {miner.host}:{PORT}: restored to 'normal'"]
        assert web.mode == 0


def test_wrong_password_and_no_password(sim: Sim, password: str, monkeypatch: pytest.MonkeyPatch) -> None:
    miner = sim("antminer")
    with AntminerWeb(miner, port=PORT, password="another") as web:
        knob = AntminerMode(miner.host, PORT)
        with pytest.raises(KnobRefused) as exc:
            check_before_change([knob], [(knob, "low-power")])
        line = one_line(exc)
        assert "get_miner_conf refused: wrong account or password" in line and password not in line
        monkeypatch.delenv("SITEBENCH_MINER_PASSWORD")
        with pytest.raises(KnobRefused, match="no miner password: set SITEBENCH_MINER_PASSWORD"):
            check_before_change([knob], [(knob, "low-power")])
        assert web.posted == [] and web.mode == 0


def test_the_digest_is_answered_once_and_checked(sim: Sim, password: str) -> None:
    miner = sim("antminer")
    with AntminerWeb(miner, port=PORT, password=password) as web:
        url = f"http://{miner.host}:{PORT}/cgi-bin/get_miner_conf.cgi"
        assert json.loads(exchange(url, account="root", password=password, timeout_s=5).body)["bitmain-work-mode"] == "0"
        assert web.requests == ["GET /cgi-bin/get_miner_conf.cgi"] * 2, "challenged, then answered"
        with pytest.raises(WebError, match="HTTP 401: the account or password was refused"):
            exchange(url, account="admin", password=password, timeout_s=5)


@pytest.mark.parametrize("options, why", [
    ({"work_modes": False}, "the firmware has no work modes (get_miner_conf gives no bitmain-work-mode)"),
    ({"cgi": False}, "the firmware has no get_miner_conf.cgi (HTTP 404)"),
])
def test_a_firmware_without_modes(sim: Sim, password: str, options: dict[str, Any], why: str) -> None:
    miner = sim("antminer")
    with AntminerWeb(miner, port=PORT, password=password, **options) as web:
        knob = AntminerMode(miner.host, PORT)
        with pytest.raises(KnobRefused) as exc:
            check_before_change([knob], [(knob, "low-power")])
        assert why in one_line(exc)
        assert web.posted == []


def test_an_unknown_mode_and_an_unreachable_miner(sim: Sim, password: str) -> None:
    miner = sim("antminer")
    with AntminerWeb(miner, port=PORT, password=password):
        knob = AntminerMode(miner.host, PORT)
        with pytest.raises(KnobRefused, match="'turbo' is not one of its modes"):
            check_before_change([knob], [(knob, "turbo")])
    with pytest.raises(KnobFailed) as exc:
        AntminerMode(miner.host, PORT, timeout_s=1.0).read()
    assert one_line(exc).startswith(f"miner.mode on {miner.host}:{PORT}: get_miner_conf: ")
    assert "connection refused" in one_line(exc)


def test_the_factory_chooses_it_for_stock_antminer() -> None:
    identity = Identity("127.0.26.251", 4028, "cgminer", "antminer", "Bitmain", "Antminer S19j Pro", "bmminer 1.0.0")
    knob = miner_knob(identity)
    assert isinstance(knob, AntminerMode) and knob.port == 80
