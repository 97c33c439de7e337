"""A fleet measured in shards: what each shard's result records (``shard``), and the merged fleet's block (``miners_fleet``).

A shard's result is an ordinary miners file whose runs leave their series (power traces, telemetry) to
the Parquet samples file beside it (:mod:`bench.record.samples`); its ``shard`` block names that file with
its SHA-256 and row count, so a signature over the document covers the samples too, and says which
shard of which run it is, the wall-clock grid its windows start on and how far its clock may be from UTC.

A merged fleet's result (``sitebench merge``) holds one average miner per model as its runs and the
``miners_fleet`` block: the shards it joined, the totals over every miner, each model's sums over the
fleet's windows (what the average miner's figures are recomputed from) and the distributions between
miners (TH/s, J/TH, missing chips, the hottest board), with the outliers by k x MAD.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bench.record.base import Record
from bench.record.bounds import (
    MAX_ITEMS,
    MAX_POINTS,
    MAX_RUNS,
    Bytes,
    Count,
    Name,
    PositiveSeconds,
    Rate,
    Text,
    Texts,
)

SHA256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
FileName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")]
"""A file's name beside the result (no directory)."""
Epoch = Annotated[float, Field(ge=0.0, le=1e11)]
"""UTC seconds since 1970."""
Monotonic = Annotated[float, Field(ge=-1e12, le=1e12)]
ClockSeconds = Annotated[float, Field(ge=-1e6, le=1e6)]
Sum = Annotated[float, Field(ge=0.0, le=1e30)]
"""A fleet-wide sum (hashes, seconds, joules of up to millions of miners)."""
MAX_SHARDS = 100_000
MAX_MINERS = 100_000_000


class SamplesRef(Record):
    """The Parquet file of per-poll samples beside a result: its name, format, SHA-256, rows and bytes."""

    file: FileName
    format: Literal["sitebench.samples/1"] = "sitebench.samples/1"
    sha256: SHA256
    rows: Count
    bytes: Bytes


class Clock(Record):
    """The poller's clock against UTC from its NTP state (None: not available); ``sources`` says what was read."""

    synchronised: bool | None = None
    offset_s: ClockSeconds | None = None
    maxerror_s: Annotated[float, Field(ge=0.0, le=1e6)] | None = None
    esterror_s: Annotated[float, Field(ge=0.0, le=1e6)] | None = None
    sources: Texts = []
    notes: Texts = []


class ShardInfo(Record):
    """Which shard of which fleet run a result is, and what its figures rest on beyond the file.

    ``t_ref`` is the poller's monotonic clock at the run's start (the samples' ``t`` minus ``t_ref`` are
    the run's phase times); ``wall_ref`` the UTC time then. Windows start on multiples of ``window_s`` in
    UTC. ``hosts`` and ``hosts_sha256`` describe the whole host list the shards were cut from.
    """

    run_id: Name
    run_id_from: Name
    k: Annotated[int, Field(ge=0, lt=MAX_SHARDS)]
    n: Annotated[int, Field(ge=1, le=MAX_SHARDS)]
    source: Name
    detail: Text = ""
    hosts: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    hosts_sha256: SHA256
    miners: Annotated[int, Field(ge=0, le=MAX_RUNS)]
    window_s: PositiveSeconds
    period_s: PositiveSeconds
    t_ref: Monotonic
    wall_ref: Epoch
    clock: Clock
    samples: SamplesRef


class Member(Record):
    """One shard a merged fleet joined: its number, file, the SHA-256 of its JSON and of its samples."""

    k: Annotated[int, Field(ge=0, lt=MAX_SHARDS)]
    file: Text
    sha256: SHA256
    samples_sha256: SHA256
    rows: Count
    miners: Annotated[int, Field(ge=0, le=MAX_RUNS)]
    wall_ref: Epoch
    clock_bound_s: Annotated[float, Field(ge=0.0, le=1e6)] | None = None
    clock_synchronised: bool | None = None


class Slot(Record):
    """One fleet window (``slot`` x the window length in UTC): sums over the miners measured in it."""

    slot: Annotated[int, Field(ge=0, le=2**40)]
    miners: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    hashes: Sum
    seconds: Sum
    joules: Sum


class Distribution(Record):
    """A figure's spread between miners, from a histogram of log-spaced bins of relative width ``resolution``.

    The quantiles and the MAD are bin centres (within ``resolution`` of the exact figure); ``histogram`` is
    ``[[lower edge, count], ...]``. Min, max and mean are exact.
    """

    count: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    min: Rate | None = None
    p10: Rate | None = None
    median: Rate | None = None
    p90: Rate | None = None
    max: Rate | None = None
    mean: Rate | None = None
    mad: Rate | None = None
    resolution: Annotated[float, Field(gt=0.0, le=1.0)]
    histogram: Annotated[list[Annotated[list[Annotated[float, Field(ge=0.0, le=1e21)]], Field(min_length=2, max_length=2)]],
                         Field(max_length=MAX_POINTS)] = []


class Outlier(Record):
    """A miner whose figure is worse than its model's median by more than k x MAD (and a minimum gap)."""

    miner: Name
    shard: Annotated[int, Field(ge=0, lt=MAX_SHARDS)]
    model: Name
    metric: Literal["ths", "j_per_th"]
    value: Rate
    median: Rate
    mad: Rate


class ModelGroup(Record):
    """One model's miners across the fleet: counts, sums over its usable miners, distributions.

    ``usable`` miners (measured, verified, power valid for sizing) make the model's average miner (a run
    of the fleet result): its figures are ``hashes / seconds`` and ``joules / hashes`` over ``slots``.
    """

    make: Name
    model: Name
    miners: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    measured: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    verified: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    usable: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    power_sources: Annotated[dict[Name, Annotated[int, Field(ge=0, le=MAX_MINERS)]], Field(max_length=MAX_ITEMS)] = {}
    hashrate_hs: Sum
    power_w: Sum
    hashes: Sum
    seconds: Sum
    joules: Sum
    slots: Annotated[list[Slot], Field(max_length=MAX_ITEMS)] = []
    ths: Distribution
    j_per_th: Distribution
    temp_max_c: Distribution
    missing_chips: Annotated[dict[Name, Annotated[int, Field(ge=0, le=MAX_MINERS)]], Field(max_length=MAX_ITEMS)] = {}


class Totals(Record):
    """The fleet's totals over every miner of every shard merged.

    ``hashrate_hs`` and ``power_w`` are sums of the measured miners' own figures; ``j_per_th`` is the usable
    miners' joules over their hashes (one definition); ``missing_chips_miners`` counts miners short of chips.
    """

    miners: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    measured: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    verified: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    usable: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    failed: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    hashrate_hs: Sum
    power_w: Sum
    j_per_th: Rate | None = None
    missing_chips_miners: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    missing_chips: Annotated[int, Field(ge=0, le=2**53)]
    outliers: Annotated[int, Field(ge=0, le=MAX_MINERS)]


class MinersFleet(Record):
    """A merged fleet: run id, shards joined and missing, the window grid, totals, models, outliers.

    ``complete`` only when every shard ``0..shards-1`` was merged (``missing`` lists the others).
    ``lag_s`` is the latest any miner's window started after its grid boundary (a poll period, more where polls
    were missed at a boundary; ``notes`` counts those), ``clock_bound_s`` the widest a shard's clock may be
    from UTC: together, how far the fleet's windows may be from lining up.
    """

    run_id: Name
    shards: Annotated[int, Field(ge=1, le=MAX_SHARDS)]
    complete: bool
    missing: Annotated[list[Annotated[int, Field(ge=0, lt=MAX_SHARDS)]], Field(max_length=MAX_SHARDS)] = []
    hosts: Annotated[int, Field(ge=0, le=MAX_MINERS)]
    hosts_sha256: SHA256
    window_s: PositiveSeconds
    period_s: PositiveSeconds
    lag_s: Annotated[float, Field(ge=0.0, le=1e6)]
    clock_bound_s: Annotated[float, Field(ge=0.0, le=1e6)] | None = None
    k_mad: Annotated[float, Field(gt=0.0, le=100.0)]
    min_rel_gap: Annotated[float, Field(ge=0.0, le=1.0)]
    members: Annotated[list[Member], Field(max_length=MAX_SHARDS)]
    totals: Totals
    models: Annotated[list[ModelGroup], Field(max_length=MAX_ITEMS)]
    outliers: Annotated[list[Outlier], Field(max_length=MAX_ITEMS)] = []
    notes: Texts = []


def average_miner(slots: list[Slot]) -> tuple[list[float], list[float], list[float]]:
    """Hashes, seconds and joules of a model's average miner in each fleet window.

    Each window's sums are divided by the mean number of miners per window (the same divisor for every
    window), so the average miner's rate is the fleet's hashes over its miner-seconds and its J/TH the
    fleet's joules over its hashes, exactly; each window's rate is that window's over every miner in it.
    """
    used = [s for s in slots if s.seconds > 0 and s.miners > 0]
    if not used:
        return [], [], []
    per = sum(s.miners for s in used) / len(used)
    return [s.hashes / per for s in used], [s.seconds / per for s in used], [s.joules / per for s in used]
