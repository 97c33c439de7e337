"""One normalised record per poll of one miner, whatever its firmware.

Every figure is in base units (H, H/s, W, degrees C, s) or None when the firmware
does not report it; nothing missing is ever a 0. The cumulative hash counter
(:attr:`Poll.hashes`) is what throughput is measured from; the miner's own 5 s
and average rates are kept for display only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """Who a miner is and how it was reached.

    Attributes:
        host: address as given (``10.0.0.5`` or ``127.0.0.9``).
        port: TCP port of the API that answered.
        protocol: ``cgminer`` (JSON on 4028; also Whatsminer API v2) or ``whatsminer-v3``
            (length-prefixed JSON on 4433).
        family: firmware family deciding which commands are polled: ``antminer`` (stock
            bmminer/cgminer), ``braiins``, ``luxos``, ``avalon``, ``whatsminer``, ``cgminer``.
        make, model, firmware: e.g. ``Bitmain``, ``Antminer S19 Pro``, ``bmminer 1.0.0``.
        serial: the unit's serial number where the API gives one (Avalon: its DNA).
    """

    host: str
    port: int
    protocol: str
    family: str
    make: str
    model: str
    firmware: str
    serial: str | None = None

    @property
    def address(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Board:
    """One hash board as the firmware reports it (None: not reported)."""

    index: int
    chips: int | None = None
    chips_expected: int | None = None
    temp_board_c: float | None = None
    temp_chip_c: float | None = None
    hashrate_hs: float | None = None
    hw_errors: int | None = None
    serial: str | None = None
    #: the board's sensors on the air intake side and the exhaust side, where the firmware tells them apart
    temp_inlet_c: float | None = None
    temp_outlet_c: float | None = None

    @property
    def chips_missing(self) -> int | None:
        """Expected minus present chips (None when either is unknown)."""
        if self.chips is None or self.chips_expected is None:
            return None
        return max(self.chips_expected - self.chips, 0)


@dataclass(frozen=True)
class Counter:
    """The cumulative hash counter read in one poll.

    Attributes:
        hashes: hashes done since the miner (its mining process) started.
        resolution: how far ``hashes`` may be from the truth because of how it is
            reported (rounding, an integer ``Elapsed``), in hashes.
        source: the fields it came from (``Total MH``; ``MHS av x Elapsed``).
    """

    hashes: float
    resolution: float
    source: str


@dataclass(frozen=True)
class Poll:
    """One successful poll.

    Attributes:
        t: ``time.monotonic()`` when the reply arrived.
        wall: ``time.time()`` at the same moment.
        elapsed_s: seconds since the miner's mining process started (reboot detection).
        counter: the cumulative hash counter, or None when the firmware has none.
        rates_hs: the firmware's own rates by window (``5s``, ``av``, ``1m``, ``nominal``).
        accepted_difficulty: sum of the difficulty of accepted shares (all pools).
        rejected_difficulty: the same for rejected and stale shares.
        shares: accepted + rejected + stale share count.
        hw_errors: cumulative hardware errors (invalid nonces).
        power_w: the firmware's own power figure, with ``power_source`` naming the field.
        stable: the firmware's own "hash rate stable" flag, where it has one.
        errors: firmware error codes or messages as reported.
        share_difficulty: the difficulty of the shares the miner finds now (its active pool's
            ``Last Share Difficulty``), where reported: each share's difficulty, which the accepted
            difficulty per share must match (:mod:`bench.miners.measure.verify`).
        temp_env_c: the air the miner takes in, from its own sensor where the firmware reports one
            (Whatsminer ``Env Temp``).
    """

    t: float
    wall: float
    identity: Identity
    elapsed_s: float | None
    counter: Counter | None
    rates_hs: dict[str, float] = field(default_factory=dict)
    accepted_difficulty: float | None = None
    rejected_difficulty: float | None = None
    shares: int | None = None
    hw_errors: int | None = None
    power_w: float | None = None
    power_source: str | None = None
    fans_rpm: tuple[int, ...] = ()
    boards: tuple[Board, ...] = ()
    stable: bool | None = None
    errors: tuple[str, ...] = ()
    share_difficulty: float | None = None
    temp_env_c: float | None = None

    @property
    def chips(self) -> int | None:
        """Chips present on all boards (None when no board reports chips)."""
        counts = [b.chips for b in self.boards if b.chips is not None]
        return sum(counts) if counts else None

    @property
    def chips_expected(self) -> int | None:
        """Chips the model should have on all boards (None when unknown)."""
        counts = [b.chips_expected for b in self.boards if b.chips_expected is not None]
        return sum(counts) if counts and len(counts) == len(self.boards) else None


@dataclass(frozen=True)
class PollFailure:
    """A poll that got no usable answer: a gap in that miner's series, with the reason."""

    t: float
    wall: float
    address: str
    reason: str


Sample = Poll | PollFailure
