"""Finding miners: addresses and CIDR ranges probed with bounded concurrency and a per-host timeout.

Each address is identified (:func:`bench.miners.protocol.client.identify`) and polled once, all
within ``timeout_s`` and under the transport's :class:`~bench.miners.protocol.transport.Limits` (bytes,
nesting, read timeout); at most ``concurrency`` addresses are in flight at once, so a /16
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
from bench.miners.protocol.client import MinerClient, identify
from bench.miners.protocol.model import Identity, Poll
from bench.miners.protocol.parse import MinerError
from bench.miners.protocol.transport import DEFAULT_TIMEOUT_S, LIMITS, Limits, Unreachable

#: The widest range scanned without ``force`` (an IPv4 /16: 65,536 addresses).
MAX_PREFIX_WITHOUT_FORCE = 16
#: The most addresses one range may have even with ``force`` (an IPv4 /8).
MAX_ADDRESSES = 2**24
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
    """Expand ``HOST[:PORT]`` and ``CIDR`` specs in order (duplicates once); every spec is checked
    first, the addresses are produced lazily.

    Raises:
        UsageError: a malformed spec, or a range of more than 65,536 addresses (a /16) without
            ``force`` or of more than :data:`MAX_ADDRESSES` with it.
    """
    items: list[ipaddress.IPv4Network | ipaddress.IPv6Network | tuple[str, int | None]] = []
    for spec in specs:
        if "/" not in spec:
            items.append(_host_port(spec))
            continue
        try:
            net = ipaddress.ip_network(spec, strict=False)
        except ValueError as exc:
            raise UsageError(f"{spec!r} is not a CIDR range ({exc})") from None
        limit = MAX_ADDRESSES if force else 2 ** (32 - MAX_PREFIX_WITHOUT_FORCE)
        if net.num_addresses > limit:
            hint = "scan it in parts" if force else "scan it in parts or add --force"
            raise UsageError(f"{spec} is {net.num_addresses:,} addresses, more than {limit:,}: {hint}")
        items.append(net)
    return _expand(items)


def _expand(items: list[ipaddress.IPv4Network | ipaddress.IPv6Network | tuple[str, int | None]]) -> Iterator[Target]:
    seen: set[tuple[str, int | None]] = set()
    for item in items:
        if isinstance(item, tuple):
            found: Iterator[tuple[str, int | None]] = iter([item])
        else:
            found = ((str(a), None) for a in (item.hosts() if item.num_addresses > 2 else item))
        for host, port in found:
            if (host, port) not in seen:
                seen.add((host, port))
                yield Target(host, port, named=isinstance(item, tuple))


async def probe(target: Target, timeout_s: float, limits: Limits = LIMITS) -> ScanResult:
    """Identify and poll one address within ``timeout_s`` (never raises: whatever the address sends is a
    :class:`~bench.miners.protocol.parse.MinerError` at the transport and parse edge, one row with the reason)."""
    t0 = time.monotonic()

    async def ask() -> tuple[MinerClient, Poll]:
        client = await identify(target.host, target.port, timeout_s=timeout_s, limits=limits)
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
               timeout_s: float = DEFAULT_TIMEOUT_S, limits: Limits = LIMITS) -> list[ScanResult]:
    """Probe every address of ``specs`` with at most ``concurrency`` in flight; results in input order.

    Raises:
        UsageError: bad specs or options (before anything is probed).
    """
    if concurrency < 1 or timeout_s <= 0 or limits.read_timeout_s <= 0:
        raise UsageError("--concurrency must be at least 1, --timeout and --read-timeout positive")
    feed = enumerate(targets(specs, force=force))
    results: dict[int, ScanResult] = {}

    async def worker() -> None:
        for i, target in feed:
            results[i] = await probe(target, timeout_s, limits)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [results[i] for i in sorted(results)]
