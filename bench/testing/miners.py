"""Simulated miners speaking the real protocols over real TCP, for tests, benchmarks and demos.

Each :class:`SimMiner` listens on its own loopback address (``127.0.0.x:4028``, or 4433
for Whatsminer API v3) and answers like its firmware family. Its hash counter is the
exact integral of its hash rate (a warm-up ramp, chips that go missing); pool shares
and hardware errors follow the expected count (or, with ``poisson``, arrive as Poisson
events from a seeded generator, as a real pool's do). Faults: ``mode``
``hang`` (accepts, never answers), ``truncate`` (half a reply, then closes), ``refuse``
(stops listening); ``messy`` replies (NUL terminator, ``}{`` between joined replies,
bare ``nan``/``"inf"``, numbers as strings, a trailing comma); :meth:`SimMiner.reboot`
resets the counters. Run many: ``python -m bench.testing.miners --first 127.1.0.1 --count 1000``.

Power targets: a Whatsminer API v3 miner takes ``set.miner.power_limit`` with the v3 token (checked against
its ``password``) and answers ``get.miner.setting`` (its ``power-limit``, and ``power``: its standard power).
With a ``curve`` (:class:`bench.testing.power_curve.PowerCurve`) its hash rate and power follow that curve
when retargeted, settling as a first-order lag (``tau_s``) during which its firmware's stability flag is
off; a target over its stock power or under the curve's floor is refused. Without one, a target only
changes the power it reports (``power_w``), as before. ``limit_w`` is the target it holds (None: stock).
``before_write(request)``, when set, sees each accepted write before it is applied; a reply it returns is sent
instead, and the write is not applied (a test holds a write there, or drops it).

Hostile miners, for testing what a client makes of a miner that lies or misbehaves (sitebench's own
``tests/hostile/miners_cases.py`` use them):

- transport faults (``mode``): ``deep`` (a reply nested ``size`` levels deep), ``deeplist`` (the same
  with lists), ``huge`` (a valid reply padded to ``size`` bytes), ``endless`` (a reply that never ends:
  bytes until the client hangs up), ``trickle`` (the reply one byte every ``trickle_s``), ``stall`` (half
  the reply, then silence with the connection open), ``garbage`` (``size`` random bytes), ``bigframe``
  (Whatsminer v3: a length prefix of 4 GiB), ``bigint`` (a counter of ``size`` digits);
- lies about the work (the truth stays ``hashrate_ths``): ``inflate`` multiplies the counter and the
  rates the firmware reports, ``inflate_difficulty`` the accepted/rejected share difficulty,
  ``inflate_nominal`` the nominal (factory) rate; ``glitch`` = ``(after_s, hashes)`` adds ``hashes`` to
  the counter from ``after_s`` seconds of uptime on (``spike`` the same for one second only);
  ``shares=False`` reports no share counts or difficulty at all;
- anything else: ``tamper(command, reply)`` edits each reply object before it is sent (wrong types in
  identity fields, 1e308/inf/nan/negative counters), ``tamper_bytes(data)`` the encoded bytes;
  ``served`` counts the requests answered (to change a miner after so many of them).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import math
import random
import re
import resource
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bench.miners.protocol.write import token
from bench.testing import miner_replies as sim_replies
from bench.testing.miner_replies import State
from bench.testing.power_curve import PowerCurve, Settle

_INVALID = {"STATUS": [{"STATUS": "E", "When": 1700000000, "Code": 14, "Msg": "Invalid command"}], "id": 1}


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    k, p, limit = 0, rng.random(), math.exp(-mean)
    while p > limit:
        k, p = k + 1, p * rng.random()
    return k


@dataclass
class SimMiner:
    """One simulated miner; change its public fields at any time (from any thread)."""

    host: str
    family: str = "antminer"
    model: str = "Antminer S19 Pro"
    hashrate_ths: float = 110.0
    power_w: float | None = 3250.0
    chips_expected: int = 114
    boards: int = 3
    difficulty: float = 1024.0
    reject_fraction: float = 0.0
    hw_error_rate: float = 1e-6
    ramp_s: float = 0.0
    messy: bool = False
    join: bool = True
    mode: str = "ok"
    seed: int = 0
    poisson: bool = False
    port: int | None = None
    missing: list[int] = field(default_factory=list)
    password: str = "super"
    writes: list[dict[str, Any]] = field(default_factory=list)
    size: int = 100_000
    trickle_s: float = 0.05
    inflate: float = 1.0
    inflate_difficulty: float = 1.0
    inflate_nominal: float = 1.0
    glitch: tuple[float, float] | None = None
    spike: tuple[float, float] | None = None
    shares: bool = True
    tamper: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None
    tamper_bytes: Callable[[bytes], bytes] | None = None
    served: int = 0
    curve: PowerCurve | None = None
    limit_w: float | None = None
    tau_s: float = 3.0
    before_write: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None
    _t: float = field(default=0.0, repr=False)
    _start: float = field(default=0.0, repr=False)
    _acc: list[float] = field(default_factory=lambda: [0.0] * 8, repr=False)

    def __post_init__(self) -> None:
        self.port = self.port or (4433 if self.family == "whatsminer-v3" else 4028)
        self.missing = self.missing or [0] * self.boards
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._stock_w = self.curve.stock_w if self.curve is not None else self.power_w
        self._settle = Settle.at_rest(time.monotonic(), self.hashrate_ths, self.power_w or 0.0, tau_s=self.tau_s)
        if self.curve is not None:
            self.hashrate_ths = self.curve.stock_ths
            self._settle = Settle.at_rest(time.monotonic(), *self.curve.point(self.limit_w or self.curve.stock_w),
                                          tau_s=self.tau_s)
        self.reboot()

    def reboot(self) -> None:
        """The miner restarts now: elapsed, counter, shares and errors start again from 0."""
        with self._lock:
            self._start = self._t = time.monotonic()
            # hashes, accepted, rejected, diff accepted, diff rejected, hw errors, expected shares and errors
            self._acc = [0.0] * 8

    def _ramp(self, e: float) -> float:
        """Integral of the ramp factor (0.6 -> 1 over ramp_s) from 0 to ``e`` seconds."""
        r = self.ramp_s
        return 0.6 * e + 0.2 * e * e / r if r > 0 and e <= r else e - 0.2 * r

    def state(self, now: float | None = None) -> State:
        """Advance to ``now`` and return the exact figures."""
        with self._lock:
            now = time.monotonic() if now is None else now
            chips = tuple(max(self.chips_expected - m, 0) for m in self.missing)
            share = sum(chips) / (self.chips_expected * self.boards)
            e0, e1 = self._t - self._start, max(now - self._start, self._t - self._start)
            curve = self._settle if self.curve is not None else None
            ths = self.hashrate_ths if curve is None else curve.ths(max(now, self._t))
            full = ths * 1e12 * share
            ramped = self._ramp(e1) - self._ramp(e0)  # the ramp's integral; times the mean rate (exact when one is flat)
            terahashes = self.hashrate_ths * (e1 - e0) if curve is None else curve.terahashes(self._t, self._t + e1 - e0)
            dh = terahashes * 1e12 * share * (ramped / (e1 - e0) if e1 > e0 else 0.0)
            a = self._acc
            shares, errors = dh / (self.difficulty * 2**32), dh / 2**32 * self.hw_error_rate
            a[6], a[7] = a[6] + shares, a[7] + errors  # expected totals: without noise, shares are their floor
            found = _poisson(self._rng, shares) if self.poisson else int(a[6]) - int(a[1] + a[2])
            bad = sum(self._rng.random() < self.reject_fraction for _ in range(found))
            a[0] += dh
            a[1], a[2] = a[1] + found - bad, a[2] + bad
            a[3], a[4] = a[3] + (found - bad) * self.difficulty, a[4] + bad * self.difficulty
            a[5] = a[5] + _poisson(self._rng, errors) if self.poisson else float(int(a[7]))
            self._t = max(now, self._t)
            ramping = self.ramp_s > 0 and e1 < self.ramp_s
            settled = curve is None or curve.settled(self._t)
            power = self.power_w if curve is None else curve.watts(self._t)
            return State(self.family, self.model, e1, a[0], full * (0.6 + 0.4 * e1 / self.ramp_s if ramping else 1.0),
                         self.hashrate_ths * 1e12, int(a[1]), int(a[2]), a[3], a[4], int(a[5]), power,
                         chips, self.chips_expected, not ramping and settled, self.difficulty)

    @property
    def truth_hs(self) -> float:
        """The hash rate this miner really has once warm and settled at its target (its chips present), whatever
        it reports."""
        chips = sum(max(self.chips_expected - m, 0) for m in self.missing)
        ths = self.hashrate_ths if self.curve is None else self._settle.to_ths
        return ths * 1e12 * chips / (self.chips_expected * self.boards)

    @property
    def target_w(self) -> float | None:
        """The power target the miner holds (its stock power when none was set)."""
        return self.limit_w if self.limit_w is not None else self._stock_w

    def retarget(self, watts: float) -> None:
        """Hold a power target of ``watts`` from now on, whichever firmware API set it (Whatsminer's power limit
        here; Braiins OS+, LuxOS profiles and Antminer work modes from :mod:`bench.testing.braiins_server`,
        :mod:`bench.testing.luxos_server` and :mod:`bench.testing.antminer_web`): with a curve, the hash rate and
        power settle towards the curve's point; without one, only the power reported changes."""
        self.state()  # the counters advanced to now, at the old point
        with self._lock:
            self.limit_w = float(watts)
            if self.curve is not None:
                self._settle = self._settle.retarget(self._t, *self.curve.point(float(watts)))
            else:
                self.power_w = float(watts)

    def reported(self, s: State) -> State:
        """``s`` as this miner's firmware reports it: the lies applied (see the module's docstring)."""
        extra = 0.0
        if self.glitch is not None and s.elapsed >= self.glitch[0]:
            extra += self.glitch[1]
        if self.spike is not None and self.spike[0] <= s.elapsed < self.spike[0] + 1.0:
            extra += self.spike[1]
        if (self.inflate, self.inflate_difficulty, self.inflate_nominal, extra) == (1.0, 1.0, 1.0, 0.0):
            return s
        return replace(s, hashes=s.hashes * self.inflate + extra, rate_hs=s.rate_hs * self.inflate,
                       nominal_hs=s.nominal_hs * self.inflate_nominal,
                       diff_accepted=s.diff_accepted * self.inflate_difficulty,
                       diff_rejected=s.diff_rejected * self.inflate_difficulty)

    def _edit(self, command: str, reply: dict[str, Any]) -> dict[str, Any]:
        if not self.shares:
            _drop_shares(reply)
        return self.tamper(command, reply) if self.tamper is not None else reply

    def reply(self, request: dict[str, Any]) -> bytes:
        """The bytes this miner answers ``request`` with (its v3 frame's body for Whatsminer API v3); ``served``
        counts the requests answered."""
        self.served += 1
        s = self.reported(self.state())
        if self.family == "whatsminer-v3":
            cmd = str(request.get("cmd"))
            if cmd.startswith("set."):
                reply = self._write(request)
            elif cmd == "get.miner.setting":
                reply = self._setting()
            else:
                reply = sim_replies.whatsminer_v3(s, cmd, request.get("param"))
            return self._bytes(json.dumps(self._edit(cmd, reply)).encode())
        build = sim_replies.BUILDERS[self.family]
        commands = str(request.get("command") or request.get("cmd") or "").split("+")
        if len(commands) > 1 and not self.join:
            return json.dumps(_INVALID).encode() + b"\x00"
        replies = [self._edit(c, r) if (r := build(s, c)) is not None else _INVALID for c in commands]
        if self.messy:
            return self._bytes(b"".join(_messy(r) for r in replies) + b"\x00")  # }{ between joined replies
        doc = replies[0] if len(commands) == 1 else {**{c: [r] for c, r in zip(commands, replies)}, "id": 1}
        return self._bytes(json.dumps(doc).encode())

    def _bytes(self, data: bytes) -> bytes:
        """The encoded reply as the transport fault (``mode``) and ``tamper_bytes`` make it."""
        n, mode = self.size, self.mode
        if mode == "deep":
            data = b'{"STATUS":[{"STATUS":"S"}],"SUMMARY":[' + b'{"a":' * n + b"1" + b"}" * n + b"]}"
        elif mode == "deeplist":
            data = b'{"STATUS":' + b"[" * n + b"]" * n + b"}"
        elif mode == "huge":
            data = data[:-1] + b',"pad":"' + b"x" * max(n - len(data), 0) + b'"}' if data.endswith(b"}") else data
        elif mode == "garbage":
            data = random.Random(self.seed).randbytes(n)
        elif mode == "bigint":
            data = re.sub(rb'"Elapsed": \d+', b'"Elapsed": ' + b"9" * n, data)
            data = re.sub(rb'"elapsed": \d+', b'"elapsed": ' + b"9" * n, data)
        return self.tamper_bytes(data) if self.tamper_bytes is not None else data


    def _setting(self) -> dict[str, Any]:
        """``get.miner.setting``: the power limit held and the standard power (``power``, API 3.0.3 on)."""
        target, stock = self.target_w, self._stock_w
        msg: dict[str, Any] = {"power-limit": round(target) if target is not None else 0, "upfreq-speed": 0,
                               "power-mode": "normal", "fast-boot": "disable", "target-freq": 0, "power-percent": 0}
        if stock is not None:
            msg["power"] = round(stock)
        return {"code": 0, "when": 1700000000, "desc": "get.miner.setting", "msg": msg}

    def _write(self, request: dict[str, Any]) -> dict[str, Any]:
        """A privileged v3 command: checked against the token, then applied (only ``set.miner.power_limit``)."""

        cmd, ts, param = str(request.get("cmd")), request.get("ts"), request.get("param")
        self.writes.append({k: v for k, v in request.items() if k != "token"})
        if request.get("token") != token(cmd, self.password, sim_replies.SALT, int(ts) if isinstance(ts, int) else -1):
            return {"code": -4, "when": 1700000000, "desc": cmd, "msg": "invalid token"}
        if cmd != "set.miner.power_limit" or not isinstance(param, int) or isinstance(param, bool):
            return {"code": -2, "when": 1700000000, "desc": cmd, "msg": "Invalid command"}
        if self.curve is not None and not self.curve.floor_w <= param <= self.curve.stock_w:
            return {"code": -1, "when": 1700000000, "desc": cmd, "msg": "power limit out of range"}
        if self.before_write is not None and (instead := self.before_write(request)) is not None:
            return instead  # the write not applied (a test holding it, a miner that drops it)
        self.retarget(float(param))
        return {"code": 0, "when": 1700000000, "desc": cmd, "msg": "ok"}


#: Share counts and difficulty, as every firmware family names them (dropped when ``shares=False``).
SHARE_FIELDS = ("Accepted", "Rejected", "Stale", "Difficulty Accepted", "Difficulty Rejected", "Difficulty Stale",
                "Last Share Difficulty")


def _drop_shares(reply: dict[str, Any]) -> None:
    for records in reply.values():
        for rec in records if isinstance(records, list) else []:
            if isinstance(rec, dict):
                for key in SHARE_FIELDS:
                    rec.pop(key, None)


def _messy(reply: dict[str, Any]) -> bytes:
    """A reply as sloppy firmware sends it: rates as strings, non-finite tokens, a trailing comma."""
    for records in reply.values():
        for rec in records if isinstance(records, list) else []:
            if isinstance(rec, dict) and "Elapsed" in rec:
                for key in [k for k in rec if "HS " in k]:
                    rec[key] = str(rec[key])
                rec["Elapsed"] = str(rec["Elapsed"])
                rec["Device Rejected%"], rec["GHS 30m"] = "@NAN@", "inf"
    return json.dumps(reply).replace('"@NAN@"', "nan").replace("}]", ",}]", 1).encode()


class SimFleet:
    """Serves simulated miners from an event loop in a background thread."""

    def __init__(self, miners: list[SimMiner]) -> None:
        self.miners = {m.host: m for m in miners}
        self.loop = asyncio.new_event_loop()
        self._servers: dict[str, asyncio.AbstractServer] = {}
        self._handlers: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self.loop.run_forever, name="sim-miners", daemon=True)

    def __enter__(self) -> SimFleet:  # noqa: PYI034 - Self needs Python 3.11
        self._thread.start()
        self._call(_serve_all(self))
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(_close_all(self))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def set_mode(self, host: str, mode: str) -> None:
        """``ok``, ``hang``, ``truncate`` or ``refuse`` (stops listening; ``ok`` listens again)."""
        miner = self.miners[host]
        miner.mode = mode
        if mode == "refuse" and host in self._servers:
            self._call(_close(self, host))
        elif mode != "refuse" and host not in self._servers:
            self._call(_serve(self, miner))


async def _handle(miner: SimMiner, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        if miner.family == "whatsminer-v3":
            (n,) = struct.unpack("<I", await reader.readexactly(4))
            request = json.loads(await reader.readexactly(n))
        else:
            data = b""
            while True:
                chunk = await reader.read(4096)
                if not chunk or len(data) > 65536:
                    return
                data += chunk
                try:
                    request = json.loads(data)
                    break
                except ValueError:
                    continue
        if miner.mode == "hang":
            await reader.read()  # until the client gives up
            return
        out = miner.reply(request)
        if miner.family == "whatsminer-v3":
            out = (b"\xff\xff\xff\xff" if miner.mode == "bigframe" else struct.pack("<I", len(out))) + out
        await _send(miner, reader, writer, out)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def _send(miner: SimMiner, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, out: bytes) -> None:
    """Write a reply the way ``miner.mode`` says: whole, cut short, trickled, stalled or never ending."""
    if miner.mode == "truncate":
        writer.write(out[: len(out) // 2])
    elif miner.mode == "stall":
        writer.write(out[: len(out) // 2])
        await writer.drain()
        await reader.read()  # silent, the connection open, until the client gives up
        return
    elif miner.mode == "trickle":
        for i in range(len(out)):
            writer.write(out[i:i + 1])
            await writer.drain()
            await asyncio.sleep(miner.trickle_s)
        return
    elif miner.mode == "endless":
        writer.write(out[: max(len(out) // 2, 1)])
        while True:  # until the client hangs up (drain raises)
            writer.write(b"0," * 32768)
            await writer.drain()
    else:
        writer.write(out)
    await writer.drain()


async def _serve(fleet: SimFleet, miner: SimMiner) -> None:
    fleet._servers[miner.host] = await asyncio.start_server(
        lambda r, w: _tracked(fleet, _handle(miner, r, w)), miner.host, miner.port, reuse_address=True, backlog=512)


async def _close(fleet: SimFleet, host: str) -> None:
    server = fleet._servers.pop(host)
    server.close()
    await server.wait_closed()


async def _serve_all(fleet: SimFleet) -> None:
    await asyncio.gather(*(_serve(fleet, m) for m in fleet.miners.values() if m.mode != "refuse"))


async def _close_all(fleet: SimFleet) -> None:
    for host in list(fleet._servers):
        await _close(fleet, host)
    for task in list(fleet._handlers):  # connections still being answered (a hang, a trickle, an endless reply)
        task.cancel()
    await asyncio.gather(*fleet._handlers, return_exceptions=True)


async def _tracked(fleet: SimFleet, handler: Any) -> None:
    """Run one connection's handler as a task the fleet cancels when it closes."""
    task = asyncio.current_task()
    assert task is not None
    fleet._handlers.add(task)
    try:
        await handler
    finally:
        fleet._handlers.discard(task)


def addresses(first: str, count: int) -> list[str]:
    """``count`` consecutive IPv4 addresses from ``first`` (``127.1.0.1``, ``127.1.0.2``...)."""
    start = ipaddress.IPv4Address(first)
    return [str(start + i) for i in range(count)]


#: The model each family's simulated miner is, and the chips per board that model has.
MODELS = {"whatsminer": ("Whatsminer M50.VH50", 105), "whatsminer-v3": ("Whatsminer M60 VK30", 215),
          "avalon": ("Avalon A1366", 114)}


def main(argv: list[str] | None = None) -> None:
    """Serve ``--count`` simulated miners from ``--first`` until interrupted (families cycled from ``--family``)."""
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--first", default="127.1.0.1")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--family", default="antminer", help="a family, or several comma-separated (cycled)")
    p.add_argument("--missing-chips", type=int, default=0, metavar="N", help="the last miner lacks N chips on board 1")
    args = p.parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one listening socket per miner
    families = args.family.split(",")
    miners = []
    for i, h in enumerate(addresses(args.first, args.count)):
        family = families[i % len(families)]
        model, chips = MODELS.get(family, ("Antminer S19 Pro", 114))
        missing = [0, args.missing_chips, 0] if i == args.count - 1 else []
        miners.append(SimMiner(h, family=family, model=model, chips_expected=chips, seed=i, poisson=True,
                               missing=missing))
    with SimFleet(miners):
        print(f"serving {args.count} miners from {args.first}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
