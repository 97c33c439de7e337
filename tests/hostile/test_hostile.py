"""A seeded sample of the hostile-source cases (all of them: ``python benchmarks/hostile_sources.py``).

``SITEBENCH_HOSTILE_SEED`` changes the sample, ``SITEBENCH_HOSTILE_PER_SOURCE`` its size.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hostile.framework import Case, all_cases, run_case, sample

PER_SOURCE = int(os.environ.get("SITEBENCH_HOSTILE_PER_SOURCE", "4"))
SEED = int(os.environ.get("SITEBENCH_HOSTILE_SEED", "0"))
CASES = sample(all_cases(), PER_SOURCE, SEED)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.source}:{c.name}" for c in CASES])
def test_a_hostile_source_is_refused_or_measured_truthfully(case: Case, tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path)
    assert outcome.verdict == "ok", outcome.detail
