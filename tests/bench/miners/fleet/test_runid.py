"""The fleet run's id, its wall-clock window grid, and the poller's clock from its NTP state."""

from __future__ import annotations

import pytest

from bench.errors import UsageError
from bench.miners.fleet import runid
from bench.miners.fleet.runid import ClockState, clock_state, grid_offset, next_boundary, run_id


def test_run_id_from_the_option_the_environment_or_the_slurm_array() -> None:
    assert run_id("site-7.q3", {"SLURM_ARRAY_JOB_ID": "5"}) == ("site-7.q3", "--run-id")
    assert run_id(None, {"SITEBENCH_RUN_ID": "k8s-uid-1", "SLURM_ARRAY_JOB_ID": "5"}) == ("k8s-uid-1", "SITEBENCH_RUN_ID")
    assert run_id(None, {"SLURM_ARRAY_JOB_ID": "4242"}) == ("slurm-4242", "SLURM_ARRAY_JOB_ID")
    assert run_id(None, {}) is None
    for bad in ("", "a b", "x" * 101, "../etc"):
        with pytest.raises(UsageError, match="run id"):
            run_id(bad, {})


def test_windows_start_on_multiples_of_the_window_length_in_utc() -> None:
    assert next_boundary(1_700_000_100.0, 300) == 1_700_000_100.0  # already on the grid
    assert next_boundary(1_700_000_100.5, 300) == 1_700_000_400.0
    assert grid_offset(1_700_000_401.25, 300) == pytest.approx(1.25)
    assert next_boundary(7.0, 3.0) == 9.0


def test_clock_state_says_what_it_read(monkeypatch: pytest.MonkeyPatch) -> None:
    state = clock_state()
    assert state.sources or state.notes, "something is said either way"
    if "adjtimex" in state.sources:
        assert state.maxerror_s is not None and state.maxerror_s >= 0 and state.synchronised is not None

    def fake(cmd: list[str]) -> str | None:
        if cmd[0] == "chronyc":
            return "C0A80001,ntp.example,2,1700000000.1,-0.000120,0.000010,0.000050,1.2,0.01,0.02,0.004000,0.001000,64.0,Normal\n"
        return "NTP=yes\nNTPSynchronized=yes\n"

    monkeypatch.setattr(runid, "_run", fake)
    state = clock_state()
    assert state.sources[0] == "chronyc tracking" and "timedatectl show" in state.sources
    assert state.offset_s == pytest.approx(-0.00012) and state.maxerror_s == pytest.approx(0.003)
    assert state.synchronised is True and state.bound_s == pytest.approx(0.00312)
    assert ClockState().bound_s is None
