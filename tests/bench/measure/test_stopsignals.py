"""The guard around a measurement: the first stop signal raises, later ones are noted, handlers come back."""

from __future__ import annotations

import signal

import pytest

from bench.errors import Stopped
from bench.measure.stopsignals import exit_code, stop_signals


def test_the_first_signal_raises_and_a_later_one_is_only_noted(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_signals() as guard:
        with pytest.raises(Stopped) as first:
            signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGTERM)  # while the file is being written
        signal.raise_signal(signal.SIGHUP)
    assert exit_code(first.value) == 143
    assert isinstance(guard.pending, Stopped) and guard.pending.signum == signal.SIGTERM, "the first noted one wins"
    assert capsys.readouterr().err.count("signal noted") == 2
    assert signal.getsignal(signal.SIGTERM) == before


def test_after_hold_even_the_first_signal_waits_for_the_file() -> None:
    with stop_signals() as guard:
        guard.hold()
        signal.raise_signal(signal.SIGINT)
    assert isinstance(guard.pending, KeyboardInterrupt) and exit_code(guard.pending) == 130
