"""An exchange given up leaves nothing behind: a read timeout that fires in the same turn of the loop as the deadline
is taken (no "Future exception was never retrieved" at exit), and a connection made after the deadline is closed."""

from __future__ import annotations

import asyncio

from bench.miners.protocol.transport import LIMITS, NoAnswer, _Exchange


class Transport:
    closed = False
    written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True


def test_a_failure_set_as_the_exchange_is_given_up_is_taken() -> None:
    async def go() -> bool:
        done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        ex = _Exchange(b"{}", False, done, LIMITS)
        ex._fail(NoAnswer("silent"))  # the read timeout, in the same turn as the deadline's cancellation
        ex.abandon()
        return bool(done._log_traceback)  # type: ignore[attr-defined]

    assert asyncio.run(go()) is False


def test_a_connection_made_after_the_exchange_gave_up_is_closed_unused() -> None:
    async def go() -> Transport:
        done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        ex = _Exchange(b"{}", False, done, LIMITS)
        ex.abandon()
        t = Transport()
        ex.connection_made(t)  # type: ignore[arg-type]
        assert ex._silence is None
        return t

    t = asyncio.run(go())
    assert t.closed and t.written == b""
