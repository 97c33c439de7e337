"""Helpers for the serve tests: the fake server on the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bench.testing.openai_server import Behaviour, FakeServer

T = TypeVar("T")


def with_server(behaviour: Behaviour, body: Callable[[FakeServer], Awaitable[T]]) -> T:
    """Run ``body(server)`` on a fresh loop with a fake server listening on the same loop."""

    async def main() -> T:
        server = FakeServer(behaviour)
        await server.start()
        try:
            return await body(server)
        finally:
            await server.stop()

    return asyncio.run(main())
