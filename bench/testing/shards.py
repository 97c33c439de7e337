"""Synthetic shards of a fleet run, written without polling: for ``merge`` and ``validate`` at any size.

Each miner is a simulated Antminer S19 Pro whose polls are made, not asked for: its counter runs at
``rate_ths`` (times a per-miner factor, so the fleet has a spread), its pool shares follow the counter,
its firmware reports ``power_w`` (so its J/TH is real arithmetic), three boards of 114 chips. One
miner's polls go through the miners front end's own analysis (:func:`bench.miners.measure.outcome.analyse`,
:func:`bench.miners.record.runrecord.miner_run`), then each shard is written as ``miners run --shard``
writes it: the runs without their series, the polls as Parquet rows, the ``shard`` block. Every miner
of a shard is polled at the same instants (their own run, figures and samples scaled by its factor).

``python -m bench.testing.shards DIR --miners 50000 --shards 8 --polls 16`` writes ``DIR/shard-K.json``
(and ``.parquet``) for ``sitebench merge DIR --out fleet.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import time
import zlib
from dataclasses import replace
from pathlib import Path

from bench.measure import system
from bench.miners.fleet.parquet import poll_row
from bench.miners.fleet.shard import Shard, assign
from bench.miners.fleet.summary import strip
from bench.miners.measure.outcome import Plan, analyse
from bench.miners.protocol.model import Board, Counter, Identity, Poll
from bench.miners.record.runrecord import miner_run
from bench.record import Run, Settings, Timing, new_document, write_result
from bench.record.samples import SamplesWriter, sha256
from bench.record.shards import Clock, SamplesRef, ShardInfo

#: Share difficulty of the synthetic pool (thousands of shares per window at 110 TH/s).
DIFFICULTY = 64.0


def addresses(count: int) -> list[str]:
    """``count`` addresses ``10.x.y.z`` (one per miner)."""
    return [f"10.{1 + i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(count)]


def polls(host: str, *, factor: float, polls_: int, period_s: float, t0: float, wall0: float,
          rate_ths: float, power_w: float) -> list[Poll]:
    """One miner's polls: a steady counter at ``rate_ths x factor`` from ``t0`` (monotonic) / ``wall0`` (UTC)."""
    ident = Identity(host, 4028, "cgminer", "antminer", "Bitmain", "Antminer S19 Pro", "bmminer 1.0.0")
    boards = tuple(Board(i, 114, 114, 60.0 + i, 75.0 + i) for i in range(3))
    out = []
    for k in range(polls_):
        e = 600.0 + k * period_s
        hashes = rate_ths * 1e12 * factor * e
        shares = int(hashes / (DIFFICULTY * 2**32))
        out.append(Poll(t=t0 + k * period_s, wall=wall0 + k * period_s, identity=ident, elapsed_s=e,
                        counter=Counter(hashes, 1e6, "Total MH"),
                        rates_hs={"5s": rate_ths * 1e12 * factor, "nominal": rate_ths * 1e12},
                        accepted_difficulty=shares * DIFFICULTY, rejected_difficulty=0.0, shares=shares, hw_errors=0,
                        power_w=power_w * factor, power_source="Power", fans_rpm=(5400, 5400, 5400, 5400),
                        boards=boards, stable=True, share_difficulty=DIFFICULTY))
    return out


def shard_files(out_dir: Path, *, miners: int, shards: int, polls_: int = 16, period_s: float = 5.0,
                window_s: float = 30.0, repeats: int = 2, run_id: str = "synthetic", spread: float = 0.02,
                rate_ths: float = 110.0, power_w: float = 3250.0, only: list[int] | None = None,
                slow: int = 0, aligned: bool = True) -> list[Path]:
    """Write ``shards`` shard results (``only``: just these) of ``miners`` miners; returns their paths.

    Every miner's figures are the first miner's times ``1 + spread x u`` for a fixed ``u`` in [-1, 1] per miner;
    the first ``slow`` addresses run at 0.8 times that (TH/s outliers; their J/TH is everyone's). ``aligned=False``
    cuts the windows as a run outside a fleet does (each ``window_s`` from poll to poll, off the wall-clock grid).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    hosts = addresses(miners)
    ordered = sorted(hosts, key=lambda a: (hashlib.sha256(a.encode()).digest()[:8], a))
    fingerprint = hashlib.sha256("\n".join(ordered).encode()).hexdigest()
    plan = Plan(period_s=period_s, warmup_s=period_s, window_s=window_s, repeats=repeats, aligned=aligned, miners=1)
    wall0 = math.ceil(time.time() / window_s) * window_s  # the grid, as a shard's first window starts on it
    t0 = 1000.0
    template = polls(hosts[0], factor=1.0, polls_=polls_, period_s=period_s, t0=t0, wall0=wall0 - period_s,
                     rate_ths=rate_ths, power_w=power_w)
    base = miner_run(analyse(template[0].identity, list(template), plan), plan, t0 - 1.0)
    doc0 = new_document(system.describe(), settings=Settings(timing=Timing(
        idle_s=0.0, warmup_s=period_s, window_s=window_s, repeats=repeats, tail_s=0.0)))
    paths, slowed = [], set(hosts[:slow])
    for k in range(shards):
        if only is not None and k not in only:
            continue
        mine = assign(hosts, Shard(k, shards))
        path = out_dir / f"shard-{k}.json"
        parquet = path.with_suffix(".parquet")
        runs: list[Run] = []
        with SamplesWriter(parquet) as writer:
            factors = {h: (0.8 if h in slowed else 1.0) * (1.0 + spread * math.sin(zlib.crc32(h.encode())))
                       for h in mine}
            for tick in range(polls_):
                for h in mine:
                    p = template[tick]
                    writer.add(poll_row(f"{h}:4028", tick, _scaled(p, h, factors[h])))
            runs = [_clone(base, h, factors[h]) for h in mine]
        info = ShardInfo(run_id=run_id, run_id_from="--run-id", k=k, n=shards, source="--shard", hosts=miners,
                         hosts_sha256=fingerprint, miners=len(mine), window_s=window_s, period_s=period_s,
                         t_ref=t0 - 1.0, wall_ref=wall0 - period_s - 1.0, clock=Clock(synchronised=True, offset_s=0.0,
                                                                                       maxerror_s=0.01, sources=["synthetic"]),
                         samples=SamplesRef(file=parquet.name, sha256=sha256(parquet), rows=len(mine) * polls_,
                                            bytes=parquet.stat().st_size))
        write_result(path, doc0.model_copy(update={"runs": runs, "shard": info}))
        paths.append(path)
    return paths


def _scaled(p: Poll, host: str, f: float) -> Poll:
    assert p.counter is not None
    shares = int(p.counter.hashes * f / (DIFFICULTY * 2**32))
    return replace(p, identity=replace(p.identity, host=host), counter=replace(p.counter, hashes=p.counter.hashes * f),
                   rates_hs={k: v * f for k, v in p.rates_hs.items()}, power_w=(p.power_w or 0.0) * f,
                   accepted_difficulty=shares * DIFFICULTY, shares=shares)


def _clone(run: Run, host: str, f: float) -> Run:
    """The template miner's run as miner ``host``'s (its figures, energies and samples scaled by ``f``)."""
    from bench.record import figures

    t = run.throughput
    units = [u * f for u in t.units]
    p = run.power
    scale = {"energy_j": f, "avg_w": f, "peak_w": f}
    meters = [m.model_copy(update={**{k: getattr(m, k) * v for k, v in scale.items() if getattr(m, k) is not None},
                                   "name": m.name.replace(run.hardware.details["host"], host)})  # type: ignore[union-attr]
              for m in p.meters]
    power = p.model_copy(update={"energy_j": p.energy_j * f, "avg_w": p.avg_w * f, "peak_w": p.peak_w * f,  # type: ignore[operator]
                                 "window_energy_j": [e * f for e in p.window_energy_j], "meters": meters})
    hw = run.hardware.model_copy(update={"details": {**run.hardware.details, "host": host}})  # type: ignore[union-attr]
    return strip(run.model_copy(update={
        "device": f"asic:{host}", "hardware": hw, "throughput": figures.throughput(units, t.durations_s, run.unit),
        "power": power, "efficiency": figures.efficiency(units, power.energy_j, run.unit)}))


def main(argv: list[str] | None = None) -> None:
    """Write synthetic shards (see the module's docstring)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", type=Path)
    p.add_argument("--miners", type=int, default=1000)
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--polls", type=int, default=16)
    args = p.parse_args(argv)
    for path in shard_files(args.dir, miners=args.miners, shards=args.shards, polls_=args.polls):
        print(path)


if __name__ == "__main__":
    main()
