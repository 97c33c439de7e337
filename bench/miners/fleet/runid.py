"""What the shards of one fleet run share: a run id, a wall-clock grid for their windows, and clocks to trust.

**Run id.** ``--run-id ID``, else ``SITEBENCH_RUN_ID``, else the Slurm job array's ``SLURM_ARRAY_JOB_ID``
(``slurm-<id>``: every task of the array has it). A Kubernetes Indexed Job gives its pods no common id
of its own: its manifest sets ``SITEBENCH_RUN_ID`` from the Job's ``controller-uid`` label (downward API).
A sharded run without one is refused: ``merge`` joins only shards of one run.

**Windows on a wall-clock grid.** A shard's miners start their first measured window at the first poll
at or after a multiple of the window length in UTC (``--window 300``: :00, :05, :10...), so that the
fleet's windows line up across shards and machines, whenever each shard started.

**Clock offset.** How far the poller's clock may be from UTC, from its NTP state, whatever is available:
``chronyc -c tracking`` (offset from NTP time, root delay and dispersion), the kernel's ``adjtimex``
(through ctypes; read only: offset, maximum and estimated error, unsynchronised flag) and ``timedatectl
show`` (NTPSynchronized). What was available is recorded with the figures.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.errors import UsageError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
RUN_ID_ENV = "SITEBENCH_RUN_ID"
#: Seconds a clock command may take.
COMMAND_TIMEOUT_S = 2.0


def check_id(value: str, where: str) -> str:
    """``value`` when it is a run id (1 to 100 of letters, digits, ``._:-``).

    Raises:
        UsageError: otherwise, naming ``where`` it came from.
    """
    if not _ID.match(value):
        raise UsageError(f"{where} {value[:40]!r}: a run id is 1 to 100 letters, digits, '.', '_', ':' or '-'")
    return value


def run_id(given: str | None, env: Mapping[str, str]) -> tuple[str, str] | None:
    """``(run id, where it came from)``: ``--run-id``, ``SITEBENCH_RUN_ID``, the Slurm array's job id; else None."""
    if given is not None:
        return check_id(given, "--run-id"), "--run-id"
    if env.get(RUN_ID_ENV):
        return check_id(env[RUN_ID_ENV], RUN_ID_ENV), RUN_ID_ENV
    job = env.get("SLURM_ARRAY_JOB_ID")
    if job:
        return check_id(f"slurm-{job}", "SLURM_ARRAY_JOB_ID"), "SLURM_ARRAY_JOB_ID"
    return None


def next_boundary(wall: float, window_s: float) -> float:
    """The first multiple of ``window_s`` seconds since the epoch (UTC) at or after ``wall``."""
    return math.ceil(wall / window_s - 1e-9) * window_s


def grid_offset(wall: float, window_s: float) -> float:
    """How far ``wall`` is past the last multiple of ``window_s`` before it (0 <= offset < ``window_s``)."""
    return wall - math.floor(wall / window_s + 1e-9) * window_s


@dataclass
class ClockState:
    """The poller's clock against UTC as its NTP state tells (None: not available here)."""

    synchronised: bool | None = None
    offset_s: float | None = None
    maxerror_s: float | None = None
    esterror_s: float | None = None
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def bound_s(self) -> float | None:
        """How far the clock may be from UTC: ``|offset| + maxerror`` (None when unknown)."""
        if self.maxerror_s is None:
            return None
        return abs(self.offset_s or 0.0) + self.maxerror_s


def _run(cmd: list[str]) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _chrony(state: ClockState) -> None:
    out = _run(["chronyc", "-c", "tracking"])
    if not out:
        return
    parts = out.strip().split(",")
    try:
        offset, root_delay, root_dispersion = float(parts[4]), float(parts[10]), float(parts[11])
    except (IndexError, ValueError):
        state.notes.append("chronyc tracking: unreadable output")
        return
    state.sources.append("chronyc tracking")
    state.offset_s = offset
    state.maxerror_s = root_delay / 2 + root_dispersion
    state.synchronised = parts[-1].strip().lower() != "not synchronised"


class _Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
                ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
                ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
                ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
                ("_reserved", ctypes.c_int * 11)]


#: adjtimex status bits and return value (linux/timex.h).
STA_UNSYNC, STA_NANO, TIME_ERROR = 0x0040, 0x2000, 5


def _adjtimex(state: ClockState) -> None:
    if not os.uname().sysname == "Linux":
        return
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6", use_errno=True)
        tx = _Timex()  # modes 0: read only, no privilege needed
        code = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return
    if code < 0:
        state.notes.append(f"adjtimex failed (errno {ctypes.get_errno()})")
        return
    state.sources.append("adjtimex")
    unsync = bool(tx.status & STA_UNSYNC) or code == TIME_ERROR
    if state.synchronised is None:
        state.synchronised = not unsync
    scale = 1e-9 if tx.status & STA_NANO else 1e-6
    if state.offset_s is None:
        state.offset_s = tx.offset * scale
    kernel_max = tx.maxerror * 1e-6
    if state.maxerror_s is None:  # chrony's bound, when read, is the tighter one
        state.maxerror_s = kernel_max
    state.esterror_s = tx.esterror * 1e-6
    if unsync:
        state.notes.append(f"the kernel says the clock is not synchronised (maximum error {kernel_max:g} s)")


def _timedatectl(state: ClockState) -> None:
    out = _run(["timedatectl", "show"])
    if not out:
        return
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    if "NTPSynchronized" in values:
        state.sources.append("timedatectl show")
        synced = values["NTPSynchronized"].strip() == "yes"
        state.synchronised = synced if state.synchronised is None else state.synchronised and synced


def clock_state() -> ClockState:
    """The poller's clock offset and error bound from whatever NTP state this machine exposes."""
    state = ClockState()
    _chrony(state)
    _adjtimex(state)
    _timedatectl(state)
    if not state.sources:
        state.notes.append("no NTP state available here (no chronyc, adjtimex or timedatectl): clock offset unknown")
    return state
