"""Scanning: ranges and hosts, bounded per-host time, one-line bad input, the command's output."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import pytest

from bench.cli import main
from bench.errors import UsageError
from bench.miners.protocol.scan import scan, targets
from bench.testing.miners import SimFleet, SimMiner

Fleet = Callable[..., SimFleet]


def test_a_range_finds_the_miners_and_says_why_the_rest_are_not(fleet: Fleet) -> None:
    fleet(SimMiner("127.0.0.65"), SimMiner("127.0.0.66", family="whatsminer", model="Whatsminer M50.VH50"),
          SimMiner("127.0.0.67", mode="hang"), SimMiner("127.0.0.68", family="whatsminer-v3", model="Whatsminer M60 VK30"))
    t0 = time.monotonic()
    results = asyncio.run(scan(["127.0.0.64/29", "127.0.0.65"], timeout_s=0.5, concurrency=4))
    assert time.monotonic() - t0 < 3.0, "the hanging miner costs one timeout, in parallel with the others"
    by_host = {r.target.host: r for r in results}
    assert [r.target.host for r in results] == [f"127.0.0.{i}" for i in range(65, 71)], "each address once, in order"
    assert by_host["127.0.0.65"].identity.model == "Antminer S19 Pro"  # type: ignore[union-attr]
    assert by_host["127.0.0.66"].identity.make == "MicroBT"  # type: ignore[union-attr]
    assert by_host["127.0.0.68"].identity.protocol == "whatsminer-v3"  # type: ignore[union-attr]
    assert by_host["127.0.0.67"].error == "127.0.0.67: no answer within 0.5 s"
    assert by_host["127.0.0.69"].refused and by_host["127.0.0.69"].identity is None


def test_ranges_wider_than_slash_16_need_force_and_bad_specs_are_one_line() -> None:
    with pytest.raises(UsageError, match="10.0.0.0/15 is 131,072 addresses, more than 65,536: scan it in parts or add --force"):
        targets(["10.0.0.0/15"])
    assert next(targets(["10.0.0.0/8"], force=True)).host == "10.0.0.1", "addresses come lazily"
    with pytest.raises(UsageError, match="more than 16,777,216: scan it in parts$"):
        targets(["fd00::/64"], force=True)
    assert len(list(targets(["10.1.0.0/16"]))) == 65534
    with pytest.raises(UsageError, match="'miner 01' is not an address"):
        targets(["10.0.0.0/24", "miner 01"])  # every spec is checked before the first address
    for bad, message in (("10.0.0.0/33", "not a CIDR range"), ("miner 01", "not an address"),
                         ("10.0.0.1:0", "not a TCP port"), ("10.0.0.1:http", "not a TCP port")):
        with pytest.raises(UsageError, match=message):
            targets([bad])


def test_the_command_prints_json_and_a_table(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    fleet(SimMiner("127.0.0.73", family="braiins", missing=[0, 6, 0]))
    assert main(["miners", "scan", "127.0.0.73", "127.0.0.74", "--json", "--timeout", "1"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["found"] and rows[0]["chips"] == 336 and rows[0]["chips_expected"] == 342
    assert rows[0]["power_w"] == 3250 and rows[0]["power_source"].startswith("tunerstatus")
    assert rows[1] == {"address": "127.0.0.74", "found": False, "seconds": rows[1]["seconds"],
                       "error": "127.0.0.74:4028: connection refused"}
    assert main(["miners", "scan", "127.0.0.73", "127.0.0.74", "--timeout", "1"]) == 0
    out = capsys.readouterr().out
    assert "Braiins OS 0.2.0-sim" in out and "336/342" in out and "3.25 kW (firmware)" in out
    assert "127.0.0.74" in out and "connection refused" in out and "1 miner(s)" in out


def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["miners", "scan", "10.0.0.0/8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "add --force" in err and "Traceback" not in err
    assert main(["miners", "run", "10.0.0.0/8"]) == 2
    assert "add --force" in capsys.readouterr().err
    assert main(["miners", "scan", "127.0.0.75", "--json", "--timeout", "0.5"]) == 1, "no miner found: exit 1"
