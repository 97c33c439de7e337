"""Writes only when asked, through a knob: Whatsminer API v3's `set.miner.power_limit` with the token of the password
from the environment; the password never reaches the result file, the journal, the output or a log line; the old
`--set-power-target W` is a one-point sweep that puts the original back."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bench.miners.measure.journal import MinersJournal
from bench.miners.protocol.knobs.whatsminer import WhatsminerPowerLimit
from bench.miners.protocol.write import token
from bench.power.knobs.knob import KnobRefused
from bench.record import load
from bench.testing.miners import SimFleet, SimMiner
from tests.bench.miners.helpers import RUN, cli

PASSWORD = "s3cret-pw-71"


def test_the_token_is_mine_and_the_v3_sim_checks_it(fleet: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    miner = SimMiner("127.0.0.131", family="whatsminer-v3", model="Whatsminer M60 VK30", password=PASSWORD)
    fleet(miner)
    knob = WhatsminerPowerLimit(miner.host, model=miner.model, timeout_s=1.0)
    monkeypatch.setenv("SITEBENCH_MINER_PASSWORD", PASSWORD)
    knob.set(3100)
    assert miner.power_w == 3100.0 and knob.read() == 3100.0
    monkeypatch.setenv("SITEBENCH_MINER_PASSWORD", "wrong")
    with pytest.raises(KnobRefused) as info:
        knob.set(3000)
    assert "code -4 (invalid token)" in str(info.value) and miner.power_w == 3100.0
    assert all("token" not in w and PASSWORD not in json.dumps(w) for w in miner.writes)
    assert len(token("set.miner.power_limit", PASSWORD, "salt", 1700000000)) == 8


def test_the_old_flag_is_one_point_put_back_and_never_leaks_the_password(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_MINER_PASSWORD", PASSWORD)
    journaled: list[str] = []
    write = MinersJournal.write

    def spy(self: MinersJournal, record: dict[str, Any], flush: bool = False) -> None:
        journaled.append(json.dumps(record))
        write(self, record, flush)

    monkeypatch.setattr(MinersJournal, "write", spy)
    ok = SimMiner("127.0.0.132", family="whatsminer-v3", model="Whatsminer M60 VK30", password=PASSWORD)
    refused = SimMiner("127.0.0.133", family="whatsminer-v3", model="Whatsminer M60 VK30", password="another")
    out = tmp_path / "m.json"
    caplog.set_level(logging.DEBUG)
    with SimFleet([ok, refused]):
        # one short window: a v3 counter (hash-average x whole seconds elapsed) needs ~200 s windows to be within
        # 1%, so this run measures nothing; what is checked is the write, the setting and the restore
        code, stdout, err = cli("miners", "run", ok.host, refused.host, *RUN, "--warmup", "1", "--window", "2",
                                "--repeats", "1", "--out", str(out), "--set-power-target", "3000", "--settle", "0")
    assert code == 1, err
    assert "deprecated" in err and "Traceback" not in err
    assert ok.power_w == 3250.0 and refused.power_w == 3250.0, "put back after the run"
    assert [w["param"] for w in ok.writes] == [3000, 3250] and ok.writes[0]["account"] == "super"
    runs = {r.device: r for r in load(out).runs}
    assert "code -4 (invalid token)" in (runs["asic:127.0.0.133"].error or "")
    good = runs["asic:127.0.0.132"]
    assert "counter resolution" in (good.error or ""), good.error
    assert good.setting is not None and good.setting.requested == 3000 and good.setting.read_back == 3000
    assert good.setting.original == 3250 and not good.setting.stock
    everything = out.read_text() + stdout + err + caplog.text + "".join(journaled)
    assert journaled and PASSWORD not in everything
