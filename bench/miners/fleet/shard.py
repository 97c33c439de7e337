"""Which miners one shard of a fleet run polls: a deterministic, balanced slice of the host list.

The host list is expanded (ranges to addresses, duplicates once) and ordered by a hash of each
address (SHA-256 of ``host`` or ``host:port``, ties by the address itself); shard ``K`` of ``N`` takes
the addresses at positions ``K, K + N, K + 2N...`` of that order. So:

- the slice does not depend on the order of the file (only on the set of addresses in it);
- the shards' sizes differ by at most one miner;
- every address is in exactly one shard, for any ``N``.

The shard comes from ``--shard K/N``, or from the environment of the job that started the process:

- a Slurm job array (``sbatch --array=0-3``): ``K = (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) /
  SLURM_ARRAY_TASK_STEP`` and ``N = SLURM_ARRAY_TASK_COUNT`` (the task ids must be evenly spaced);
- a Kubernetes Indexed Job: ``K = JOB_COMPLETION_INDEX``, and ``N`` from ``SITEBENCH_SHARDS``, which the
  Job's manifest sets to its ``completions``: Kubernetes gives a pod its index but not the count.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bench.errors import UsageError
from bench.miners.protocol.scan import targets

#: The most shards one fleet run may have.
MAX_SHARDS = 100_000
#: The environment variable a Kubernetes Indexed Job's manifest sets to its ``completions``.
SHARDS_ENV = "SITEBENCH_SHARDS"
_SPEC = re.compile(r"^\s*(\d{1,6})\s*/\s*(\d{1,6})\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``k`` (0-based) of ``n``, and where that came from (``--shard``, ``slurm``, ``kubernetes``)."""

    k: int
    n: int
    source: str = "--shard"
    detail: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.n <= MAX_SHARDS:
            raise UsageError(f"shard {self.k}/{self.n}: N must be 1..{MAX_SHARDS:,}")
        if not 0 <= self.k < self.n:
            raise UsageError(f"shard {self.k}/{self.n}: K must be 0..{self.n - 1} (shards are numbered from 0)")

    @property
    def label(self) -> str:
        """``K/N``."""
        return f"{self.k}/{self.n}"

    def said(self) -> str:
        """One line saying which shard this process is and where that came from."""
        where = {"--shard": "from --shard", "slurm": "from the Slurm job array",
                 "kubernetes": "from the Kubernetes Indexed Job"}.get(self.source, self.source)
        return f"shard {self.label} {where}" + (f" ({self.detail})" if self.detail else "")


def parse(spec: str) -> Shard:
    """``K/N`` as a :class:`Shard`.

    Raises:
        UsageError: not ``K/N`` with whole numbers, or ``K`` outside ``0..N-1``.
    """
    m = _SPEC.match(spec)
    if not m:
        raise UsageError(f"--shard {spec[:40]!r}: expected K/N (shard K of N, K from 0), e.g. --shard 0/4")
    k, n = int(m.group(1)), int(m.group(2))
    try:
        return Shard(k, n)
    except UsageError as exc:
        raise UsageError(f"--shard {spec.strip()}: {str(exc).split(': ', 1)[1]}") from None


def _int(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name)
    if value is None or value == "":
        return None
    if not value.strip().isdigit():
        raise UsageError(f"{name}={value[:40]!r}: not a whole number")
    return int(value)


def _slurm(env: Mapping[str, str]) -> Shard | None:
    task = _int(env, "SLURM_ARRAY_TASK_ID")
    if task is None:
        return None
    low = _int(env, "SLURM_ARRAY_TASK_MIN")
    high = _int(env, "SLURM_ARRAY_TASK_MAX")
    step = _int(env, "SLURM_ARRAY_TASK_STEP") or 1
    count = _int(env, "SLURM_ARRAY_TASK_COUNT")
    low = 0 if low is None else low
    if count is None:
        if high is None:
            raise UsageError(f"SLURM_ARRAY_TASK_ID={task} without SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MAX: "
                             "cannot tell how many shards the array has")
        count = (high - low) // step + 1
    if (task - low) % step or (high is not None and (high - low) // step + 1 != count):
        raise UsageError(f"SLURM_ARRAY_TASK_ID={task}: the array's task ids are not evenly spaced from "
                         f"{low} (step {step}, {count} tasks): submit it as --array=0-{count - 1}")
    k = (task - low) // step
    detail = f"SLURM_ARRAY_TASK_ID={task}, SLURM_ARRAY_TASK_MIN={low}, SLURM_ARRAY_TASK_COUNT={count}"
    if not 0 <= k < count:
        raise UsageError(f"SLURM_ARRAY_TASK_ID={task}: shard {k} is outside 0..{count - 1} ({detail})")
    return Shard(k, count, "slurm", detail + (f", SLURM_ARRAY_TASK_STEP={step}" if step != 1 else ""))


def _kubernetes(env: Mapping[str, str]) -> Shard | None:
    index = _int(env, "JOB_COMPLETION_INDEX")
    if index is None:
        return None
    count = _int(env, SHARDS_ENV)
    if count is None:
        raise UsageError(f"JOB_COMPLETION_INDEX={index} (a Kubernetes Indexed Job), but not how many shards: set "
                         f"{SHARDS_ENV} to the Job's completions in its manifest (Kubernetes does not give it to the pod)")
    detail = f"JOB_COMPLETION_INDEX={index}, {SHARDS_ENV}={count}"
    if not 0 <= index < count:
        raise UsageError(f"JOB_COMPLETION_INDEX={index}: outside 0..{count - 1} ({detail})")
    return Shard(index, count, "kubernetes", detail)


def from_env(env: Mapping[str, str]) -> Shard | None:
    """The shard a Slurm job array or a Kubernetes Indexed Job gives this process, or None outside both.

    Raises:
        UsageError: the job's variables are there but do not make a shard (see the module's docstring).
    """
    return _slurm(env) or _kubernetes(env)


def choose(spec: str | None, env: Mapping[str, str]) -> Shard | None:
    """The shard to run: ``--shard K/N`` (``auto``: the job's), else the job's environment's, else None.

    Raises:
        UsageError: a bad spec; ``auto`` outside a job array; ``--shard`` disagreeing with the job's.
    """
    found = from_env(env)
    if spec is None:
        return found
    if spec.strip() == "auto":
        if found is None:
            raise UsageError("--shard auto: neither a Slurm job array (SLURM_ARRAY_TASK_ID) nor a Kubernetes "
                             "Indexed Job (JOB_COMPLETION_INDEX) is in the environment: give --shard K/N")
        return found
    given = parse(spec)
    if found is not None and (found.k, found.n) != (given.k, given.n):
        raise UsageError(f"--shard {given.label} but the {found.source} job says {found.label} ({found.detail}): "
                         "leave out --shard or make them agree")
    return given


def key(host: str, port: int | None) -> str:
    """The address a miner is sharded by: ``host``, or ``host:port`` when a port was named."""
    return host if port is None else f"{host}:{port}"


def _rank(address: str) -> tuple[bytes, str]:
    return hashlib.sha256(address.encode("utf-8")).digest()[:8], address


def assign(addresses: Iterable[str], shard: Shard) -> list[str]:
    """The addresses of ``shard``: every ``N``-th of the list in hash order, from the ``K``-th (duplicates once)."""
    ordered = sorted(set(addresses), key=_rank)
    return ordered[shard.k::shard.n]


def spec_of(host: str, port: int | None, named: bool) -> str:
    """A ``miners run`` spec for one address: itself when named, else a one-address range (``/32``, ``/128``),
    so that an address found in a range stays one that may be silent (not a miner) without failing the run."""
    if named:
        return key(host, port)
    bits = ipaddress.ip_address(host).max_prefixlen
    return f"{host}/{bits}"


@dataclass(frozen=True)
class Slice:
    """One shard's part of a host list: its ``miners run`` specs, and how many addresses the whole list has."""

    specs: list[str]
    total: int
    fingerprint: str


def select(specs: list[str], shard: Shard, *, force: bool = False) -> Slice:
    """Expand ``specs`` (addresses and ranges, as ``miners run`` takes them) and keep ``shard``'s addresses.

    ``fingerprint`` is the SHA-256 of the whole list's addresses in hash order: every shard of one run
    records it, and ``merge`` refuses shards cut from different lists.

    Raises:
        UsageError: a malformed spec or a range too wide (as ``miners run``).
    """
    named: dict[str, tuple[str, int | None, bool]] = {}
    for t in targets(specs, force=force):
        named.setdefault(key(t.host, t.port), (t.host, t.port, t.named))
    ordered = sorted(named, key=_rank)
    digest = hashlib.sha256("\n".join(ordered).encode("utf-8")).hexdigest()
    mine = [spec_of(*named[a]) for a in ordered[shard.k::shard.n]]
    return Slice(mine, len(ordered), digest)
