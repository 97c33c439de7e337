"""The ipmi meter against a fake ``ipmitool`` on PATH printing real DCMI output."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.errors import MeterReadError, MeterUnavailable, UsageError
from bench.power.discovery import discover, open_spec
from bench.power.meters import ipmi
from bench.power.sampler import Sampler

# As printed by ipmitool 1.8.18 `dcmi power reading` (leading blank line and indentation included).
DCMI = """
    Instantaneous power reading:                   {watts} Watts
    Minimum during sampling period:                 36 Watts
    Maximum during sampling period:                660 Watts
    Average power reading over sample period:      245 Watts
    IPMI timestamp:                           Thu Feb 15 08:36:01 2024
    Sampling period:                          00000001 Seconds.
    Power reading state is:                   {state}

"""

FAKE = """#!/bin/sh
echo "$@" >> "$FAKE_IPMI/args"
case "$(cat "$FAKE_IPMI/mode")" in
  ok) cat "$FAKE_IPMI/out" ;;
  fail) echo "Error: Unable to establish IPMI v2 / RMCP+ session" >&2; exit 1 ;;
  hang) sleep 30 ;;
esac
"""


class FakeIpmitool:
    """Controls the fake: what it prints and how it behaves."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def answer(self, watts: int = 254, state: str = "activated") -> None:
        (self.root / "out").write_text(DCMI.format(watts=watts, state=state))
        self.mode("ok")

    def mode(self, mode: str) -> None:
        (self.root / "mode").write_text(mode)

    def calls(self) -> list[str]:
        path = self.root / "args"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeIpmitool:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "ipmitool"
    script.write_text(FAKE)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_IPMI", str(tmp_path))
    monkeypatch.delenv("IPMI_PASSWORD", raising=False)
    monkeypatch.delenv("IPMI_USER", raising=False)
    f = FakeIpmitool(tmp_path)
    f.answer()
    return f


def test_parse_real_dcmi_output() -> None:
    assert ipmi.parse_dcmi(DCMI.format(watts=254, state="activated")) == (254.0, 1.0)
    ms = DCMI.format(watts=50, state="activated").replace("00000001 Seconds.", "500 Milliseconds")
    assert ipmi.parse_dcmi(ms) == pytest.approx((50.0, 0.5), rel=1e-12)
    zero = DCMI.format(watts=50, state="activated").replace("00000001", "00000000")
    assert ipmi.parse_dcmi(zero) == (50.0, None)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (DCMI.format(watts=235, state="deactivated"), "deactivated"),
        ("Power reading state is: activated\n", "no 'Instantaneous power reading'"),
        ("", "no 'Instantaneous power reading'"),
    ],
)
def test_parse_refuses_invalid_readings(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        ipmi.parse_dcmi(text)


def test_local_bmc_is_node_power_with_the_dcmi_sampling_period(fake: FakeIpmitool) -> None:
    (meter,) = open_spec("ipmi")
    try:
        assert (meter.name, meter.scope, meter.method) == ("ipmi:local", "node", "polled")
        assert meter.update_period_s == 1.0 and meter.accuracy == 0.05
        assert "within 5% or worse" in meter.accuracy_note and "1 s" in meter.accuracy_note
        assert meter.read().power_w == 254.0
        assert fake.calls() == ["dcmi power reading"]
    finally:
        meter.close()


def test_remote_bmc_uses_lanplus_and_the_password_from_the_environment(
    fake: FakeIpmitool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IPMI_PASSWORD", "s3cret")
    (meter,) = open_spec("ipmi:admin@bmc.example")
    meter.close()
    assert meter.name == "ipmi:bmc.example"
    assert fake.calls() == ["-I lanplus -H bmc.example -U admin -E dcmi power reading"]
    monkeypatch.setenv("IPMI_USER", "operator")
    open_spec("ipmi:10.0.0.7")[0].close()
    assert fake.calls()[-1] == "-I lanplus -H 10.0.0.7 -U operator -E dcmi power reading"
    assert not any("s3cret" in call for call in fake.calls())


def test_remote_bmc_without_password_is_refused_before_asking(fake: FakeIpmitool) -> None:
    with pytest.raises(MeterUnavailable, match="set IPMI_PASSWORD to the BMC password"):
        open_spec("ipmi:admin@bmc.example")
    assert fake.calls() == []


@pytest.mark.parametrize(
    ("mode", "needle"),
    [
        ("fail", "exited 1: Error: Unable to establish IPMI v2 / RMCP+ session"),
        ("hang", "gave no answer within 0.3 s"),
    ],
)
def test_failing_ipmitool_is_unavailable_with_one_line(
    fake: FakeIpmitool, monkeypatch: pytest.MonkeyPatch, mode: str, needle: str
) -> None:
    monkeypatch.setattr(ipmi, "DEFAULT_TIMEOUT_S", 0.3)
    fake.mode(mode)
    start = time.monotonic()
    with pytest.raises(MeterUnavailable) as exc:
        open_spec("ipmi")
    assert needle in str(exc.value) and "\n" not in str(exc.value)
    assert time.monotonic() - start < 10, "a hanging ipmitool (and its children) is killed at the timeout"


def test_deactivated_power_reading_is_unavailable(fake: FakeIpmitool) -> None:
    fake.answer(state="deactivated")
    with pytest.raises(MeterUnavailable, match="power reading state 'deactivated'"):
        open_spec("ipmi")


def test_missing_ipmitool_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MeterUnavailable, match="ipmitool not found on PATH"):
        open_spec("ipmi")
    _, unavailable = discover(None)
    assert any(u.name == "ipmi" and "ipmitool not found" in u.reason for u in unavailable)
    with pytest.raises(UsageError, match="--meter ipmi: ipmitool not found"):
        discover(["ipmi"])


def test_bmc_failing_mid_run_leaves_gaps_and_recovers(fake: FakeIpmitool) -> None:
    (meter,) = discover(["ipmi"])[0]  # the 5 s timeout: a slow fork on a loaded machine is no failing BMC
    meter.update_period_s = 0.05  # the fake BMC updates faster than a real one, to keep the test short
    sampler = Sampler([meter], rate_hz=50)
    log = sampler.logs["ipmi:local"]

    def wait_until(what: str, cond) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 60  # generous for a loaded machine; each step ends on its event
        while not cond():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.01)

    sampler.start()
    wait_until("a first reading", lambda: len(log.readings) >= 3)
    fake.mode("fail")
    wait_until("a gap", lambda: len(log.gaps) >= 2)
    fake.answer(watts=300)
    wait_until("the BMC answering again", lambda: any(r.power_w == 300.0 for r in log.readings[-3:]))
    sampler.stop()
    powers = [r.power_w for r in log.readings]
    assert powers[0] == 254.0 and powers[-1] == 300.0
    assert log.gaps and all("Unable to establish IPMI v2" in g.reason for g in log.gaps)
    assert 0.0 not in powers
    meter.timeout_s = 0.3
    with pytest.raises(MeterReadError, match="no answer within 0.3 s"):
        fake.mode("hang")
        meter.fetch()
