"""The one write, only when asked: `--set-power-target W` through Whatsminer API v3 with the password from the
environment; the password never reaches the result file, the journal, the output or a log line, and a miner
that refuses (or cannot take) the target is a failed run while the others go on."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bench.miners.measure.journal import MinersJournal
from bench.miners.protocol.client import identify
from bench.miners.protocol.parse import CommandFailed
from bench.miners.protocol.write import set_power_target, token
from bench.record import load
from bench.testing.miners import SimFleet, SimMiner
from tests.bench.miners.helpers import RUN, cli

PASSWORD = "s3cret-pw-71"


def test_the_token_is_mine_and_the_v3_sim_checks_it(fleet: Any) -> None:
    miner = SimMiner("127.0.0.131", family="whatsminer-v3", model="Whatsminer M60 VK30", password=PASSWORD)
    fleet(miner)

    async def go(password: str) -> str:
        client = await identify(miner.host, timeout_s=1.0)
        return await set_power_target(client, 3100, "super", password)

    assert "power target 3100 W set" in asyncio.run(go(PASSWORD)) and miner.power_w == 3100.0
    with pytest.raises(CommandFailed) as info:
        asyncio.run(go("wrong"))
    assert "code -4 (invalid token)" in str(info.value)
    assert all("token" not in w and PASSWORD not in json.dumps(w) for w in miner.writes)
    assert len(token("set.miner.power_limit", PASSWORD, "salt", 1700000000)) == 8


def test_set_power_target_writes_only_v3_and_never_leaks_the_password(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_MINER_PASSWORD", PASSWORD)
    journaled: list[str] = []
    write = MinersJournal.write

    def spy(self: MinersJournal, record: dict[str, Any], flush: bool = False) -> None:
        journaled.append(json.dumps(record))
        write(self, record, flush)

    monkeypatch.setattr(MinersJournal, "write", spy)
    ok = SimMiner("127.0.0.132", family="whatsminer-v3", model="Whatsminer M60 VK30", password=PASSWORD)
    refused = SimMiner("127.0.0.133", family="whatsminer-v3", model="Whatsminer M60 VK30", password="another")
    stock = SimMiner("127.0.0.134", difficulty=64)
    out = tmp_path / "m.json"
    caplog.set_level(logging.DEBUG)
    with SimFleet([ok, refused, stock]):
        code, stdout, err = cli("miners", "run", ok.host, refused.host, stock.host, *RUN, "--out", str(out),
                                "--set-power-target", "3000")
    assert code == 1, err
    assert ok.power_w == 3000.0 and refused.power_w == 3250.0 and stock.power_w == 3250.0
    assert [w["param"] for w in ok.writes] == [3000] and ok.writes[0]["account"] == "super"
    runs = {r.device: r for r in load(out).runs}
    assert "code -4 (invalid token)" in (runs["asic:127.0.0.133"].error or "")
    assert "only through Whatsminer API v3" in (runs["asic:127.0.0.134"].error or "")
    assert runs["asic:127.0.0.132"].params["power_target_w"] == 3000, "measured at the target it was set to"
    assert "power target 3000 W set" in err
    everything = out.read_text() + stdout + err + caplog.text + "".join(journaled)
    assert journaled and PASSWORD not in everything
