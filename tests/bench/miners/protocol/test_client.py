"""The protocol clients against simulated miners over real TCP: every family, messy replies, faults."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable

import pytest

from bench.miners.protocol.client import MinerClient, identify, query, v3_command
from bench.miners.protocol.parse import BadReply
from bench.miners.protocol.transport import NoAnswer, Unreachable
from bench.testing.miners import SimFleet, SimMiner

Fleet = Callable[..., SimFleet]


def ask(host: str, port: int | None = None, timeout_s: float = 2.0) -> MinerClient:
    return asyncio.run(identify(host, port, timeout_s=timeout_s))


@pytest.mark.parametrize("miner, make, model, firmware, serial", [
    (SimMiner("127.0.0.41"), "Bitmain", "Antminer S19 Pro", "bmminer 1.0.0", None),
    (SimMiner("127.0.0.42", family="braiins"), "Bitmain", "Antminer S19 Pro", "Braiins OS 0.2.0-sim", None),
    (SimMiner("127.0.0.43", family="luxos", model="Antminer S21"), "Bitmain", "Antminer S21", "LuxOS 2024.1", None),
    (SimMiner("127.0.0.44", family="avalon", model="Avalon A1366"), "Canaan", "Avalon A1366", "Avalon sim",
     "020100001a2b3c4d"),
    (SimMiner("127.0.0.45", family="whatsminer", model="Whatsminer M50.VH50"), "MicroBT", "Whatsminer M50.VH50",
     "btminer 20240101.13.Rel", "WMSIM0001"),
    (SimMiner("127.0.0.46", family="whatsminer-v3", model="Whatsminer M60 VK30"), "MicroBT", "Whatsminer M60 VK30",
     "btminer 20240722.07.51.REL", "WM3SIM0001"),
])
def test_every_family_is_identified_and_polled(fleet: Fleet, miner: SimMiner, make: str, model: str,
                                               firmware: str, serial: str | None) -> None:
    fleet(miner)
    client = ask(miner.host)
    ident = client.identity
    assert (ident.make, ident.model, ident.firmware, ident.serial) == (make, model, firmware, serial)
    assert ident.port == (4433 if miner.family == "whatsminer-v3" else 4028)
    poll = asyncio.run(client.poll())
    assert poll.counter is not None and poll.counter.hashes >= 0 and poll.elapsed_s is not None
    assert poll.rates_hs.get("5s", poll.rates_hs.get("realtime")) == pytest.approx(110e12, rel=1e-3)


def test_whatsminer_v3_on_its_port_or_another_one(fleet: Fleet) -> None:
    fleet(SimMiner("127.0.0.54", family="whatsminer-v3", model="Whatsminer M60 VK30"),
          SimMiner("127.0.0.55", family="whatsminer-v3", model="Whatsminer M60 VK30", port=14433))
    assert ask("127.0.0.54", 4433).identity.address == "127.0.0.54:4433"
    moved = ask("127.0.0.55", 14433, timeout_s=0.5)  # cgminer JSON first: no answer, then v3 on that port
    assert moved.identity.protocol == "whatsminer-v3" and moved.identity.address == "127.0.0.55:14433"
    assert asyncio.run(moved.poll()).power_w == 3250


def test_messy_replies_and_a_firmware_refusing_joined_commands(fleet: Fleet) -> None:
    miner = SimMiner("127.0.0.47", messy=True, join=False, difficulty=64)
    fleet(miner)
    client = ask(miner.host)
    first = asyncio.run(client.poll())
    assert client.join is False, "the joined request was refused once; single commands from then on"
    second = asyncio.run(client.poll())
    assert first.counter and second.counter and second.counter.hashes > first.counter.hashes
    assert first.rates_hs["5s"] == pytest.approx(110e12, rel=1e-3) and "30m" not in first.rates_hs, "'inf' is no rate"
    assert first.elapsed_s is not None and [b.chips for b in first.boards] == [114, 114, 114]


def test_messy_joined_replies_arrive_back_to_back(fleet: Fleet) -> None:
    miner = SimMiner("127.0.0.48", messy=True, family="braiins")
    fleet(miner)
    replies = asyncio.run(query(miner.host, 4028, ("summary", "tunerstatus", "devdetails"), 2.0))
    assert set(replies) == {"summary", "tunerstatus", "devdetails"}


def test_a_miner_that_hangs_costs_its_timeout_and_no_more(fleet: Fleet) -> None:
    miner = SimMiner("127.0.0.49")
    f = fleet(miner)
    client = ask(miner.host)
    f.set_mode(miner.host, "hang")
    t0 = time.monotonic()
    with pytest.raises(NoAnswer, match="no answer within 0.3 s"):
        asyncio.run(MinerClient(client.identity, 0.3).poll())
    assert time.monotonic() - t0 < 2.0


def test_refused_truncated_and_unknown_commands(fleet: Fleet) -> None:
    miner = SimMiner("127.0.0.50")
    f = fleet(miner)
    client = ask(miner.host)
    f.set_mode(miner.host, "truncate")
    with pytest.raises(BadReply, match="truncated JSON"):
        asyncio.run(client.poll())
    f.set_mode(miner.host, "refuse")
    with pytest.raises(Unreachable, match="connection refused"):
        asyncio.run(client.poll())
    with pytest.raises(Unreachable, match="connection refused"):
        ask(miner.host, timeout_s=0.5)
    f.set_mode(miner.host, "ok")
    assert asyncio.run(client.poll()).counter is not None, "listening again: the next poll works"


def test_only_read_commands_can_be_sent() -> None:
    with pytest.raises(ValueError, match="not a read-only miner command: restart"):
        asyncio.run(query("127.0.0.51", 4028, ("summary", "restart"), 1.0))
    with pytest.raises(ValueError, match="set.miner.power_limit"):
        asyncio.run(v3_command("127.0.0.51", 4433, "set.miner.power_limit", "3000", 1.0))


def test_a_service_that_is_not_a_miner_api(fleet: Fleet) -> None:
    server = socket.create_server(("127.0.0.52", 4028))
    ready = threading.Event()

    def answer_http() -> None:
        ready.set()
        conn, _ = server.accept()
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        conn.close()

    thread = threading.Thread(target=answer_http, daemon=True)
    thread.start()
    ready.wait()
    try:
        with pytest.raises(BadReply, match="not JSON"):
            ask("127.0.0.52", timeout_s=1.0)
    finally:
        server.close()
        thread.join(timeout=5)


def test_chips_that_go_missing_show_per_board(fleet: Fleet) -> None:
    miner = SimMiner("127.0.0.53")
    fleet(miner)
    client = ask(miner.host)
    miner.missing = [0, 10, 0]
    poll = asyncio.run(client.poll())
    assert [b.chips_missing for b in poll.boards] == [0, 10, 0] and poll.chips == 332
