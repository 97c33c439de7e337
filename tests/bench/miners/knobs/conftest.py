"""Fixtures of the miner knob tests: credentials in the environment, and simulated miners with a power curve."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from bench.miners.protocol.knobs.credentials import ACCOUNT_ENV, PASSWORD_ENV
from bench.testing.miners import SimMiner
from bench.testing.power_curve import PowerCurve

#: The password every simulated miner here has.
PASSWORD = "Kn0b-s3cret"
_HOSTS = itertools.count(1)


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    """The miners' password in the environment (the firmware's default account)."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    monkeypatch.delenv(ACCOUNT_ENV, raising=False)
    return PASSWORD


@pytest.fixture
def no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials in the environment."""
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.delenv(ACCOUNT_ENV, raising=False)


@pytest.fixture
def sim() -> Callable[..., SimMiner]:
    """``sim(family, **fields)``: an S19j Pro on the S19j Pro's power curve, on a loopback address of its own
    (127.0.26.N), settling with a time constant of 2 s."""

    def make(family: str, **fields: object) -> SimMiner:
        host = f"127.0.26.{next(_HOSTS) % 250 + 1}"
        options: dict[str, object] = {"model": "Antminer S19j Pro", "curve": PowerCurve(96.0, 2850.0), "tau_s": 2.0}
        options.update(fields)
        return SimMiner(host, family=family, **options)  # type: ignore[arg-type]

    return make
