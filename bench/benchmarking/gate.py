"""The CI regression gate: a pytest-benchmark run against a stored sitebench baseline.

Uses :func:`bench.benchmarking.compare.compare_documents`, so the verdict rules (threshold,
significance where the samples allow a test, threshold alone where they do
not, and said so) are the same as ``sitebench compare``.
"""

from __future__ import annotations

from typing import Any

from bench.benchmarking.compare import Comparison, compare_documents
from bench.benchmarking.convert import to_result
from bench.record import Document


def gate(baseline: Document, bench_json: dict[str, Any], threshold: float = 0.05,
         alpha: float = 0.05, per_workload: dict[str, float] | None = None) -> tuple[bool, list[Comparison]]:
    """Compare a pytest-benchmark JSON run with a baseline result document.

    ``threshold`` (and ``per_workload`` by workload name) are relative slowdowns.
    Returns ``(passed, comparisons)``; ``passed`` is False when any run regressed.
    """
    comparisons = compare_documents(baseline, to_result(bench_json), threshold=threshold,
                                    per_workload=per_workload, alpha=alpha)
    return not any(c.regression for c in comparisons), comparisons
