"""Hostile miners: fake miners on loopback that misbehave or lie, against ``sitebench miners scan`` and ``run``.

Each case serves a hostile :class:`~bench.testing.miners.SimMiner` (with an honest one beside it, which must
come through untouched) on its own ``127.0.25.x`` addresses and runs sitebench in a bounded child process
(:func:`tests.hostile.framework.sitebench`). A case is judged on what came out, never on how fast:

- ``traceback`` / ``hang``: the child showed a traceback, ran out of memory or past its limit (a scan
  that takes longer than :data:`SCAN_LIMIT_S`, or a run longer than :data:`RUN_LIMIT_S`, is unbounded: the
  per-address deadline is a few seconds, the run's plan some fifteen);
- ``lie``: a run came out ``verified`` with a rate over :data:`LIE_MARGIN` x the miner's true rate, or a
  power under 1 / :data:`LIE_MARGIN` of its true power;
- ``lost``: no result file although a miner was measured, a miner missing from the file or the scan, a
  failed run without a reason, or (where the case says so: a glitch, a miner that goes bad mid-run) a
  miner whose honest windows were dropped, or stand replaced by a glitch's figure;
- ``ok`` otherwise: the bad source was one clear failure for that miner, or measured truthfully.

``python benchmarks/hostile_sources.py --source miners -v`` runs them all.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.testing.miners import SimFleet, SimMiner
from tests.hostile.framework import ROOT, Case, Outcome, Ran, sitebench

SOURCE = "miners"
#: A quick ``miners run``: polls every 0.2 s, a warm-up of at most 4 s, two windows of 1.5 s.
RUN = ("--period", "0.2", "--warmup", "4", "--window", "1.5", "--repeats", "2", "--timeout", "1")
#: A run long enough to be killed in the middle (it would take over a minute).
LONG_RUN = ("--period", "0.2", "--warmup", "4", "--window", "1.5", "--repeats", "40", "--timeout", "1")
#: Longer than any bounded scan of two addresses can take (each address costs at most its deadline).
SCAN_LIMIT_S = 45.0
#: Longer than any bounded run of the plan above can take (its deadline is 2 x 4 + 1.5 x 2 x 1.5 s).
RUN_LIMIT_S = 90.0
#: A verified figure this far from the truth is a lie (the tests' miners are exact; 10% is all noise can do).
LIE_MARGIN = 1.1
#: Pool difficulty of the simulated miners: thousands of shares a second, a tight pool cross-check.
DIFFICULTY = 64.0

_addresses = (f"127.0.25.{i}" for i in itertools.count(10))


def _host() -> str:
    return next(_addresses)


def _miner(**kw: Any) -> SimMiner:
    kw.setdefault("difficulty", DIFFICULTY)
    return SimMiner(_host(), **kw)


# --- tampering with replies -------------------------------------------------------------------------------

def _set(command: str, key: str, **fields: Any) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """A tamper that sets ``fields`` in the first record under ``key`` of the reply to ``command``
    (``key`` ``msg``: in the v3 message; ``msg.summary``: in its summary object)."""

    def tamper(cmd: str, reply: dict[str, Any]) -> dict[str, Any]:
        if cmd != command:
            return reply
        if key.startswith("msg"):
            target: Any = reply.get("msg")
            for part in key.split(".")[1:]:
                target = target.get(part) if isinstance(target, dict) else None
        else:
            records = reply.get(key)
            target = records[0] if isinstance(records, list) and records else None
        if isinstance(target, dict):
            target.update(fields)
        return reply

    return tamper


def _replace(command: str, key: str, value: Any) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """A tamper that replaces the whole of ``key`` in the reply to ``command`` with ``value``."""

    def tamper(cmd: str, reply: dict[str, Any]) -> dict[str, Any]:
        if cmd == command:
            if key.startswith("msg.") and isinstance(reply.get("msg"), dict):
                reply["msg"][key[4:]] = value
            else:
                reply[key] = value
        return reply

    return tamper


def _bare(field: str, token: str) -> Callable[[bytes], bytes]:
    """Bytes tamper: ``"field": <number>`` becomes ``"field": token`` (a bare ``inf``, ``nan``, ``1e999``)."""
    pattern = re.compile(rb'("' + re.escape(field.encode()) + rb'": )-?[0-9.eE+-]+')
    return lambda data: pattern.sub(rb"\g<1>" + token.encode(), data)


# --- running sitebench against a fleet -------------------------------------------------------------------

def _started(*miners: SimMiner) -> None:
    """The miners boot now (the cases are built at import; a glitch's time counts from the case's start)."""
    for m in miners:
        m.reboot()


def _tail(ran: Ran) -> str:
    return (ran.stderr.strip().splitlines() or ran.stdout.strip().splitlines() or [""])[-1][:300]


def _spec(m: SimMiner) -> str:
    return m.host if m.port in (4028, 4433) else f"{m.host}:{m.port}"


def _scan(bad: SimMiner) -> Outcome:
    """``miners scan BAD GOOD --json``: the good miner is found, the bad one is one row with its reason."""
    good = _miner()
    with SimFleet([bad, good]):
        _started(bad, good)
        t0 = time.monotonic()
        ran = sitebench("miners", "scan", _spec(bad), _spec(good), "--json", "--timeout", "1", timeout_s=SCAN_LIMIT_S)
        took = time.monotonic() - t0
    verdict = ran.verdict_of_process()
    if verdict is not None:
        return Outcome(verdict, f"after {took:.1f} s: {_tail(ran)}")
    try:
        rows = {r["address"]: r for r in json.loads(ran.stdout)}
    except (ValueError, TypeError, KeyError):
        return Outcome("lost", f"exit {ran.returncode}, no JSON rows: {_tail(ran)}")
    if not rows.get(good.host, {}).get("found"):
        return Outcome("lost", f"the honest miner beside it was not found: {rows.get(good.host)}")
    row = rows.get(_spec(bad))
    if row is None:
        return Outcome("lost", "the hostile address has no row")
    if not row["found"] and not row.get("error"):
        return Outcome("lost", "not found, and no reason given")
    return Outcome("ok", f"{took:.1f} s: " + (str(row.get("error")) if not row["found"] else f"found {row.get('model')}"))


def _runs(path: Path) -> dict[str, dict[str, Any]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {r["device"]: r for r in doc.get("runs", [])}


def _judge_run(run: dict[str, Any] | None, m: SimMiner, *, keep_windows: bool = False) -> Outcome | None:
    """None when this miner's run is honest; else the verdict."""
    if run is None:
        return Outcome("lost", f"{m.host}: no run in the result file")
    rate = (run.get("throughput") or {}).get("median")
    power = (run.get("power") or {}).get("avg_w")
    if run.get("status") != "ok" and not run.get("error") and not isinstance(rate, (int, float)):
        return Outcome("lost", f"{m.host}: {run.get('status')}, no window and no reason")
    if keep_windows and run.get("status") not in ("ok", "interrupted"):
        return Outcome("lost", f"{m.host}: its honest windows were dropped: {str(run.get('error'))[:200]}")
    samples = (run.get("throughput") or {}).get("samples") or []
    if keep_windows and any(not (m.truth_hs / LIE_MARGIN <= x <= m.truth_hs * LIE_MARGIN) for x in samples):
        return Outcome("lost", f"{m.host}: a glitch stands in for its honest windows: "
                               f"{', '.join(f'{x / 1e12:.4g}' for x in samples)} TH/s")
    if run.get("verified") and isinstance(rate, (int, float)) and rate > LIE_MARGIN * m.truth_hs:
        return Outcome("lie", f"{m.host}: verified at {rate / 1e12:.1f} TH/s, truly {m.truth_hs / 1e12:.1f}")
    if (run.get("verified") and m.power_w and isinstance(power, (int, float)) and power < m.power_w / LIE_MARGIN
            and run.get("metrics", {}).get("power_source") != "outlet"):
        return Outcome("lie", f"{m.host}: verified at {power:.0f} W, truly {m.power_w:.0f} W")
    return None


def _run(bad: SimMiner, *, keep_windows: bool = False, during: Callable[[SimMiner], None] | None = None,
         with_good: bool = True) -> Callable[[Path], Outcome]:
    """``miners run BAD GOOD``: a file is written with both; the good one honest, the bad one no lie."""

    def run(tmp: Path) -> Outcome:
        good = _miner() if with_good else None
        miners = [bad] + ([good] if good else [])
        out = tmp / "m.json"
        with SimFleet(miners):
            _started(*miners)
            if during is not None:
                during(bad)
            ran = sitebench("miners", "run", *(_spec(m) for m in miners), *RUN, "--out", str(out),
                            timeout_s=RUN_LIMIT_S)
        verdict = ran.verdict_of_process()
        if verdict is not None:
            return Outcome(verdict, _tail(ran))
        if not out.exists():
            if ran.returncode == 2 and good is None:
                return Outcome("ok", f"refused: {_tail(ran)}")
            return Outcome("lost", f"exit {ran.returncode}, no result file: {_tail(ran)}")
        runs = _runs(out)
        for m, keep in ((bad, keep_windows), (good, False)):
            if m is not None and (judged := _judge_run(runs.get(f"asic:{m.host}"), m, keep_windows=keep)):
                return judged
        mine = runs[f"asic:{bad.host}"]
        rate = (mine.get("throughput") or {}).get("median")
        shown = "-" if not isinstance(rate, (int, float)) else f"{rate / 1e12:.1f} TH/s"
        return Outcome("ok", f"{mine['status']}, verified={mine['verified']}, {shown}: {str(mine.get('error'))[:200]}")

    return run


def _after(requests: int, **changes: Any) -> Callable[[SimMiner], None]:
    """Change the miner's fields once it has answered ``requests`` requests (a miner that goes bad mid-run:
    the identification and some 20 polls, a window's worth, come first)."""

    def start(m: SimMiner) -> None:
        def watch() -> None:
            deadline = time.monotonic() + RUN_LIMIT_S
            while m.served < requests and time.monotonic() < deadline:
                time.sleep(0.02)
            for k, v in changes.items():
                setattr(m, k, v)

        threading.Thread(target=watch, daemon=True).start()

    return start


def _recover_after_kill(bad: SimMiner) -> Callable[[Path], Outcome]:
    """``miners run`` killed (SIGKILL) once its journal holds some polls, then ``sitebench recover``."""

    def run(tmp: Path) -> Outcome:
        out = tmp / "m.json"
        journal = tmp / "m.json.journal.jsonl"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with SimFleet([bad]):
            _started(bad)
            proc = subprocess.Popen([sys.executable, "-m", "bench", "miners", "run", bad.host, *LONG_RUN,
                                     "--out", str(out)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            deadline = time.monotonic() + RUN_LIMIT_S
            while time.monotonic() < deadline and proc.poll() is None:  # an event: enough polls journaled
                if journal.exists() and journal.read_bytes().count(b'"type": "poll"') + \
                        journal.read_bytes().count(b'"type":"poll"') >= 40:
                    break
                time.sleep(0.1)
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=30)
        if "Traceback" in err.decode(errors="replace"):
            return Outcome("traceback", err.decode(errors="replace").strip().splitlines()[-1][:300])
        if not journal.exists():
            return Outcome("lost", "killed, and no journal was left")
        ran = sitebench("recover", str(journal), timeout_s=RUN_LIMIT_S)
        verdict = ran.verdict_of_process()
        if verdict is not None:
            return Outcome(verdict, _tail(ran))
        if not out.exists():
            return Outcome("lost", f"recover exit {ran.returncode}, no result file: {_tail(ran)}")
        judged = _judge_run(_runs(out).get(f"asic:{bad.host}"), bad, keep_windows=True)
        return judged or Outcome("ok", f"recover exit {ran.returncode}")

    return run


# --- the cases ---------------------------------------------------------------------------------------------

def _case(name: str, run: Callable[[Path], Outcome]) -> Case:
    return Case(SOURCE, name, run)


def _scan_case(name: str, **kw: Any) -> Case:
    bad = _miner(**kw)
    return _case(name, lambda tmp: _scan(bad))


def _run_case(name: str, *, keep_windows: bool = False, during: Callable[[SimMiner], None] | None = None,
              **kw: Any) -> Case:
    return _case(name, _run(_miner(**kw), keep_windows=keep_windows, during=during))


V3 = {"family": "whatsminer-v3", "model": "Whatsminer M60 VK30", "chips_expected": 215}
V2 = {"family": "whatsminer", "model": "Whatsminer M50.VH50", "chips_expected": 105, "power_w": 3300.0}
AVALON = {"family": "avalon", "model": "Avalon A1366", "chips_expected": 114}
BRAIINS = {"family": "braiins"}
#: Not in sitebench's catalog: its rate cannot be checked against a nameplate.
UNKNOWN = {"model": "Antminer Z99 Sim"}
BIG = 1e308
#: Requests a miner that goes bad mid-run answers first: identification, then polls for one window of two
#: (a Braiins OS miner is warm at its first poll, by its tuner's flag, and answers a poll in one request).
MIDWAY = 12

CASES: list[Case] = [
    # the transport: every read bounded in bytes, depth and time
    _scan_case("deeply-nested-object-reply", mode="deep", size=100_000),
    _scan_case("deeply-nested-list-reply", mode="deeplist", size=300_000),
    _scan_case("deeply-nested-v3-reply", mode="deep", size=100_000, **V3),
    _scan_case("64-MiB-reply", mode="huge", size=64 << 20),
    _scan_case("reply-that-never-ends", mode="endless"),
    _scan_case("reply-that-never-ends-v3", mode="endless", **V3),
    _scan_case("reply-trickled-a-byte-at-a-time", mode="trickle", trickle_s=0.02),
    _scan_case("half-a-reply-then-silence", mode="stall"),
    _scan_case("random-bytes", mode="garbage", size=4096),
    _scan_case("v3-frame-of-4-GiB", mode="bigframe", **V3),
    _scan_case("a-5000-digit-counter", mode="bigint", size=5000),
    _scan_case("accepts-and-never-answers", mode="hang"),
    _scan_case("half-a-reply-then-close", mode="truncate"),
    # wrong types where a firmware's identity or layout is read
    _scan_case("avalon-empty-PROD", tamper=_set("version", "VERSION", PROD="", MODEL=None, LVERSION="avalon"), **AVALON),
    _scan_case("avalon-MODEL-list-DNA-number", tamper=_set("version", "VERSION", MODEL=[1, 2], DNA=12345), **AVALON),
    _scan_case("avalon-MM-ID0-number", tamper=_set("estats", "STATS", **{"MM ID0": 7}), **AVALON),
    _scan_case("braiins-device-IDs-as-lists", tamper=lambda c, r: (
        [d.update(ID=[d.get("ID")]) for d in r.get("DEVS", []) + r.get("DEVDETAILS", []) + r.get("TEMPS", [])], r)[1],
        **BRAIINS),
    _scan_case("braiins-tuner-chains-a-number", tamper=_set("tunerstatus", "TUNERSTATUS", TunerChainStatus=5), **BRAIINS),
    _scan_case("braiins-VERSION-an-object", tamper=_replace("version", "VERSION", {"BOSminer": ["x"]}), **BRAIINS),
    _scan_case("v3-miner-a-string", tamper=_replace("get.device.info", "msg.miner", "M60"), **V3),
    _scan_case("v3-system-a-list", tamper=_replace("get.device.info", "msg.system", [1, 2]), **V3),
    _scan_case("v3-serial-a-list", tamper=_set("get.device.info", "msg.miner", **{"miner-sn": [1], "type": {"a": 1}}),
               **V3),
    _scan_case("v3-edevs-a-number", tamper=_replace("get.miner.status", "msg.edevs", 5), **V3),
    _scan_case("v3-summary-a-list", tamper=_replace("get.miner.status", "msg.summary", [1, 2, 3]), **V3),
    _scan_case("v3-msg-a-string", tamper=lambda c, r: {**r, "msg": "ok"} if c == "get.miner.status" else r, **V3),
    _scan_case("whatsminer-v2-Msg-a-list-serial-a-number",
               tamper=lambda c, r: {**r, "Msg": [1]} if c == "get_version" else (
                   {**r, "Msg": {"minersn": 123}} if c == "get_miner_info" else r), **V2),
    _scan_case("antminer-chips-a-list", tamper=_set("stats", "STATS", chain_acn1=[63], rate_unit=7)),
    _scan_case("antminer-STATUS-a-number-SUMMARY-a-string", tamper=lambda c, r: (
        {**r, "STATUS": 5, "SUMMARY": "x"} if c == "summary" else r)),
    _scan_case("antminer-Type-an-object", tamper=_set("version", "VERSION", Type={"model": "S19"})),
    _scan_case("elapsed-1e308", tamper=_set("summary", "SUMMARY", Elapsed=BIG)),
    # counters: 1e308, inf, nan, negative (one failure for that miner; the others go on)
    _run_case("total-MH-1e308", tamper=_set("summary", "SUMMARY", **{"Total MH": BIG})),
    _run_case("total-MH-bare-inf", tamper_bytes=_bare("Total MH", "inf")),
    _run_case("total-MH-bare-nan", tamper_bytes=_bare("Total MH", "nan")),
    _run_case("total-MH-1e999", tamper_bytes=_bare("Total MH", "1e999")),
    _run_case("total-MH-negative", tamper=_set("summary", "SUMMARY", **{"Total MH": -5e9})),
    _run_case("difficulty-accepted-1e308", tamper=_set("summary", "SUMMARY", **{"Difficulty Accepted": BIG})),
    _run_case("shares-accepted-1e308", tamper=_set("summary", "SUMMARY", Accepted=BIG, Rejected=BIG)),
    _run_case("shares-accepted-negative", tamper=_set("summary", "SUMMARY", Accepted=-40)),
    _run_case("hardware-errors-1e308", tamper=_set("summary", "SUMMARY", **{"Hardware Errors": BIG})),
    _run_case("chips-1e308", tamper=_set("stats", "STATS", chain_acn1=BIG)),
    _run_case("temperature-and-fan-1e308", tamper=_set("stats", "STATS", temp_pcb1=BIG, fan1=BIG)),
    _run_case("firmware-power-1e308", tamper=_set("summary", "SUMMARY", Power=BIG), **V2),
    _run_case("firmware-power-negative", tamper=_set("tunerstatus", "TUNERSTATUS",
                                                     ApproximateMinerPowerConsumption=-300), **BRAIINS),
    _run_case("v3-hash-average-1e308", tamper=_set("get.miner.status", "msg.summary", **{"hash-average": BIG}), **V3),
    # lies: caught by the catalog (nameplate and chips) and by the pool shares
    _run_case("counter-and-difficulty-2.9x", inflate=2.9, inflate_difficulty=2.9),
    _run_case("counter-difficulty-and-nominal-9x", inflate=9.1, inflate_difficulty=9.1, inflate_nominal=9.1),
    _run_case("counter-alone-2x", inflate=2.0),
    _run_case("counter-and-difficulty-2x-whatsminer-no-nameplate", inflate=2.0, inflate_difficulty=2.0,
              inflate_nominal=2.0, **V2),
    _run_case("counter-and-difficulty-2.9x-unknown-model", inflate=2.9, inflate_difficulty=2.9, **UNKNOWN),
    _run_case("counter-2.9x-unknown-model-few-shares", inflate=2.9, difficulty=16384.0, **UNKNOWN),
    _run_case("counter-1.3x-and-no-shares", inflate=1.3, shares=False),
    _run_case("firmware-power-a-third-of-the-truth", tamper=_set(
        "tunerstatus", "TUNERSTATUS", ApproximateMinerPowerConsumption=1000), **BRAIINS),
    _run_case("avalon-wallpower-a-third-and-counter-1.3x", inflate=1.3, inflate_difficulty=1.3,
              tamper_bytes=lambda b: re.sub(rb"WALLPOWER\[\d+\]", b"WALLPOWER[1000]", b), **AVALON),
    # glitches: one bad interval is a gap with its reason, the rest of the run goes on and is written
    _run_case("counter-glitch-1-EH-no-power", keep_windows=True, glitch=(2.5, 1e18), power_w=None, **BRAIINS),
    _run_case("counter-spike-for-one-second", keep_windows=True, spike=(2.5, 5e15), **BRAIINS),
    _run_case("counter-glitch-within-the-jump-limit", keep_windows=True, glitch=(2.5, 6.2e13), power_w=None, **BRAIINS),
    _run_case("deep-replies-from-the-middle-of-the-run", keep_windows=True,
              during=_after(MIDWAY, mode="deep", size=100_000), **BRAIINS),
    _run_case("endless-replies-from-the-middle-of-the-run", keep_windows=True, during=_after(MIDWAY, mode="endless"),
              **BRAIINS),
    _run_case("counter-1e308-from-the-middle-of-the-run", keep_windows=True, during=_after(
        MIDWAY, tamper=_set("summary", "SUMMARY", **{"Total MH": BIG})), **BRAIINS),
    _case("recover-after-a-counter-glitch", _recover_after_kill(_miner(glitch=(4.0, 1e18), power_w=None, **BRAIINS))),
]
