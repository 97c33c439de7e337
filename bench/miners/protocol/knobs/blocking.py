"""Run the miners' asyncio exchanges from a knob's synchronous methods.

A :class:`~bench.power.knobs.knob.Knob` is synchronous; the cgminer-family transport
(:mod:`bench.miners.protocol.transport`) is asyncio. Outside an event loop a coroutine runs on a fresh
loop here; called from inside one (a sweep driven from asyncio code), it runs on a fresh loop in a
worker thread, so the caller's loop is never re-entered. Either way the exchange keeps its own
deadline, so the wait is bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """The result of the coroutine ``make()`` returns, run to completion on a loop of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="knob") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
