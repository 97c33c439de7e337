"""Finding miners: addresses and CIDR ranges probed with bounded concurrency and a per-host timeout.

Each address is identified (:func:`bench.miners.client.identify`) and polled once, all
within ``timeout_s``; at most ``concurrency`` addresses are in flight at once, so a /16
of silent addresses costs ``65536 / concurrency x timeout_s`` at worst. A range wider
than /16 needs ``force``. An address that does not answer, or answers without being a
miner, is a failed row with the reason; the others go on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from bench.errors import UsageError
from bench.miners.client import MinerClient, identify
from bench.miners.model import Identity, Poll
from bench.miners.parse import MinerError
from bench.miners.transport import Unreachable

#: The widest range scanned without ``force``.
MAX_PREFIX_WITHOUT_FORCE = 16
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")


@dataclass(frozen=True)
class Target:
    """One address to probe; ``named`` when the user gave it (not found inside a range)."""

    host: str
    port: int | None
    named: bool


@dataclass(frozen=True)
class ScanResult:
    """What one address gave: a miner (identity and one poll) or the reason it is not one."""

    target: Target
    seconds: float
    identity: Identity | None = None
    poll: Poll | None = None
    error: str | None = None
    client: MinerClient | None = None

    @property
    def refused(self) -> bool:
        """Nothing listens there (the common case for empty addresses of a range)."""
        return self.error is not None and self.error.endswith("connection refused")


def _host_port(text: str) -> tuple[str, int | None]:
    host, sep, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    if not sep:
        host = text
    if not _HOST.match(host):
        raise UsageError(f"{text!r} is not an address, host name or CIDR range (e.g. 10.0.0.5, miner-01:4028, 10.0.0.0/24)")
    if sep and not (port.isdigit() and 0 < int(port) < 65536):
        raise UsageError(f"{text!r}: port {port!r} is not a TCP port")
    return host, int(port) if sep else None


def targets(specs: list[str], *, force: bool = False) -> Iterator[Target]:
    """Expand ``HOST[:PORT]`` and ``CIDR`` specs, lazily and in order (duplicates once).

    Raises:
        UsageError: a malformed spec, or a range wider than /16 without ``force``.
    """
    ranges = []
    for spec in specs:
        if "/" in spec:
            try:
                net = ipaddress.ip_network(spec, strict=False)
            except ValueError as exc:
                raise UsageError(f"{spec!r} is not a CIDR range ({exc})") from None
            if net.prefixlen < MAX_PREFIX_WITHOUT_FORCE and not force:
                raise UsageError(f"{spec} is {net.num_addresses:,} addresses, wider than /{MAX_PREFIX_WITHOUT_FORCE}: "
                                 "scan it in parts or add --force")
            ranges.append(net)
        else:
            ranges.append(_host_port(spec))  # type: ignore[arg-type]
    seen: set[tuple[str, int | None]] = set()
    for item in ranges:
        found = ([(str(a), None) for a in (item.hosts() if item.num_addresses > 2 else item)]  # type: ignore[union-attr]
                 if isinstance(item, (ipaddress.IPv4Network, ipaddress.IPv6Network)) else [item])
        for host, port in found:
            if (host, port) not in seen:
                seen.add((host, port))
                yield Target(host, port, named=not isinstance(item, (ipaddress.IPv4Network, ipaddress.IPv6Network)))


async def probe(target: Target, timeout_s: float) -> ScanResult:
    """Identify and poll one address within ``timeout_s`` (never raises)."""
    t0 = time.monotonic()

    async def ask() -> tuple[MinerClient, Poll]:
        client = await identify(target.host, target.port, timeout_s=timeout_s)
        return client, await client.poll()

    try:
        client, poll = await asyncio.wait_for(ask(), timeout_s)
    except asyncio.TimeoutError:
        return ScanResult(target, time.monotonic() - t0, error=f"{target.host}: no answer within {timeout_s:g} s")
    except Unreachable as exc:
        return ScanResult(target, time.monotonic() - t0, error=str(exc))
    except MinerError as exc:
        return ScanResult(target, time.monotonic() - t0, error=f"not a miner API: {exc}")
    return ScanResult(target, time.monotonic() - t0, client.identity, poll, client=client)


async def scan(specs: list[str], *, force: bool = False, concurrency: int = 256,
               timeout_s: float = 2.0) -> list[ScanResult]:
    """Probe every address of ``specs`` with at most ``concurrency`` in flight; results in input order.

    Raises:
        UsageError: bad specs (before anything is probed).
    """
    if concurrency < 1 or timeout_s <= 0:
        raise UsageError("--concurrency must be at least 1 and --timeout positive")
    todo = list(targets(specs, force=force))
    results: list[ScanResult | None] = [None] * len(todo)
    feed = iter(enumerate(todo))

    async def worker() -> None:
        for i, target in feed:
            results[i] = await probe(target, timeout_s)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(todo)) or 1)))
    return [r for r in results if r is not None]
