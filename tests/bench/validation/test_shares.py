"""validate recomputes a miner's pool cross-check: the bounds from the share count and the stated
confidence, the confidence within what the file's miners allow, and ``verified`` from where the ratio falls."""

from __future__ import annotations

import json

import pytest

from bench.miners.measure.outcome import analyse
from bench.miners.record.runrecord import miner_run
from bench.record import Document, Run, System, new_document
from bench.shares import CONFIDENCE, per_miner, ratio_bounds
from bench.validation import errors, validate_text
from tests.bench.miners.record.test_record import PLAN, S19, polls


def _run() -> Run:
    run = miner_run(analyse(S19, polls(S19, power=3250.0), PLAN), PLAN, 100.0)
    assert run.verified and isinstance(run.metrics["shares"], int) and run.metrics["shares"] > 100
    return run


def _with(run: Run, **metrics: object) -> Run:
    return run.model_copy(update={"metrics": {**run.metrics, **metrics}})


def _pool_findings(*runs: Run) -> list[str]:
    d: Document = new_document(System(hostname="h"), list(runs))
    found = errors(validate_text(json.dumps(d.to_json())).findings)
    return [f"{f.path}: {f.message}" for f in found if f.check == "pool-shares"]


def test_an_honest_miner_run_passes_and_states_its_confidence() -> None:
    run = _run()
    assert run.metrics["share_confidence"] == pytest.approx(CONFIDENCE)
    assert _pool_findings(run) == []


def test_verified_with_a_ratio_outside_its_bounds_is_refused() -> None:
    run = _run()
    (line,) = _pool_findings(_with(run, share_ratio=1.5))
    assert line.startswith("$.runs[0].verified:") and "outside" in line
    unverified = _with(run, share_ratio=1.5).model_copy(update={"verified": False, "error": "pool disagrees"})
    assert _pool_findings(unverified) == []


def test_bounds_that_are_not_those_of_the_share_count_are_refused() -> None:
    (line,) = _pool_findings(_with(_run(), share_ratio_low=0.5))
    assert "share_ratio_low" in line and "are not those of" in line


def test_a_confidence_wider_than_the_files_miners_allow_is_refused() -> None:
    run = _run()
    n = int(run.metrics["shares"])  # type: ignore[arg-type]
    three = per_miner(CONFIDENCE, 3)
    low, high = ratio_bounds(n, three)
    widened = _with(run, share_confidence=three, share_ratio_low=low, share_ratio_high=high)
    (line,) = _pool_findings(widened)
    assert "share_confidence" in line and "1 miners" in line
    assert _pool_findings(widened, _run(), _run()) == [], "three miners in the file: each is judged at 1 - 0.0027/3"


def test_shares_without_the_figures_to_recompute_are_refused() -> None:
    run = _run()
    (line,) = _pool_findings(run.model_copy(update={"metrics": {k: v for k, v in run.metrics.items()
                                                                 if k != "share_confidence"}}))
    assert "cannot be recomputed" in line


@pytest.mark.parametrize("shares", [None, 0, -3, "12", True])
def test_verified_without_pool_shares_is_refused(shares: object) -> None:
    run = _run()
    metrics = {k: v for k, v in run.metrics.items() if k != "shares"}
    if shares is not None:
        metrics["shares"] = shares
    if shares == -3:  # a negative count does not even type
        with pytest.raises(ValueError, match="negative"):
            run.model_validate({**run.to_json(), "metrics": metrics})
        return
    (line,) = _pool_findings(run.model_copy(update={"metrics": metrics}))
    assert line.startswith("$.runs[0].verified:") and "without the pool shares" in line
    unverified = run.model_copy(update={"metrics": metrics, "verified": False, "error": "no shares"})
    assert _pool_findings(unverified) == []
