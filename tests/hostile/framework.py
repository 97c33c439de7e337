"""Hostile sources: fake miners, servers, exporters and files that lie and misbehave, and what sitebench makes of them.

Each source (``miners``, ``serve``, ``import``, ``recover``, ``prometheus``, ``validate``) has a
module in this package with ``CASES``: named :class:`Case` objects whose ``run(tmp)`` does one
hostile thing against sitebench over real sockets on loopback (or with a real file) and returns
an :class:`Outcome`. An honest outcome is ``ok``: the bad source was refused in one clear line,
or what was measured is true, and nothing measured was lost. The test suite runs a seeded
sample of every source's cases; ``python benchmarks/hostile_sources.py`` runs them all and
prints the table of issue 25 with this project's figures.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: What one case can come to. ``ok``: refused cleanly or measured truthfully, nothing lost.
VERDICTS = ("ok", "traceback", "hang", "lie", "lost")
#: Address space a sitebench process under test may take before it counts as unbounded memory.
MEMORY_LIMIT_BYTES = 3 * 1024**3
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Outcome:
    """What a case came to, why, and the bytes of measured data lost (reported losses count as bytes, not as lost)."""

    verdict: str
    detail: str = ""
    lost_bytes: int = 0

    def __post_init__(self) -> None:
        assert self.verdict in VERDICTS, self.verdict


@dataclass(frozen=True)
class Case:
    """One hostile thing done to sitebench."""

    source: str
    name: str
    run: Callable[[Path], Outcome] = field(compare=False)


@dataclass
class Ran:
    """A finished sitebench process under test."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    out_of_memory: bool = False

    def verdict_of_process(self) -> str | None:
        """``traceback``/``hang`` when the process showed one, else None (the case then judges the figures)."""
        if self.timed_out or self.out_of_memory:
            return "hang"
        if "Traceback (most recent call last)" in self.stderr or "Traceback (most recent call last)" in self.stdout:
            return "traceback"
        return None


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def sitebench(*args: str, timeout_s: float = 120.0, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> Ran:
    """``python -m bench ARGS`` in a child with bounded memory and wall time."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    try:
        proc = subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                              timeout=timeout_s, cwd=cwd, env=full_env, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired as exc:
        return Ran(-9, str(exc.stdout or ""), str(exc.stderr or ""), timed_out=True)
    oom = "MemoryError" in proc.stderr
    return Ran(proc.returncode, proc.stdout, proc.stderr, out_of_memory=oom)


def sample(cases: Sequence[Case], per_source: int, seed: int = 0) -> list[Case]:
    """A seeded sample of ``per_source`` cases from each source (all of a source with fewer)."""
    rng = random.Random(seed)
    out: list[Case] = []
    for source in sorted({c.source for c in cases}):
        mine = [c for c in cases if c.source == source]
        out.extend(mine if len(mine) <= per_source else rng.sample(mine, per_source))
    return out


def run_case(case: Case, tmp: Path) -> Outcome:
    """Run one case; an exception escaping the case itself is sitebench's traceback (in-process cases)."""
    try:
        return case.run(tmp)
    except Exception as exc:  # noqa: BLE001 - an in-process case that raised: sitebench did not handle it
        return Outcome("traceback", f"{type(exc).__name__}: {exc}"[:300])


def table(results: Sequence[tuple[Case, Outcome]]) -> list[dict[str, object]]:
    """One row per source: cases tried and how many came to each verdict."""
    rows = []
    for source in sorted({c.source for c, _ in results}):
        mine = [o for c, o in results if c.source == source]
        rows.append({"source": source, "cases": len(mine), **{v: sum(o.verdict == v for o in mine) for v in VERDICTS},
                     "reported_lost_bytes": sum(o.lost_bytes for o in mine)})
    return rows


def all_cases() -> list[Case]:
    """Every case of every source module (``tests/hostile/*_cases.py``)."""
    import importlib

    out: list[Case] = []
    for path in sorted(Path(__file__).parent.glob("*_cases.py")):
        out.extend(importlib.import_module(f"tests.hostile.{path.stem}").CASES)
    return out
