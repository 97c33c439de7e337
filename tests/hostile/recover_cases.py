"""Damaged journals against ``sitebench recover``: real journals of killed runs, damaged in each way a crash,
a disk, a hand or a writer's bug can, then recovered in a bounded child process.

The journals are real: a ``sitebench run`` of three short runs (a third-party workload, ``sha256``, the
third-party one again) killed with SIGKILL during the third run's windows, and a ``sitebench miners run``
against simulated miners killed once one miner's record is written. Each is made once per process.

A case is judged on what came out:

- ``traceback`` / ``hang``: the child showed a traceback, ran out of memory or past :data:`LIMIT_S`;
- ``lie``: a completed run came back different from its record without saying so (no ``metrics.recovered``),
  or the exit code says something was lost where nothing was;
- ``lost``: exit 0 for a journal that lost something, a damaged line not reported by its line number, a
  completed run missing without a report, a rebuilt run without the windows that survived, or the run in
  progress without its windows;
- ``ok`` otherwise; ``lost_bytes`` is the bytes the damaged lines held (a loss reported, not silent).

The journal format the damage is made in (``{"n":N,...,"c":"crc32"}``) is written out here again, from its
documentation (:mod:`bench.measure.journal`), not imported: these cases check the format as documented.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import make_distribution
from tests.hostile.framework import ROOT, Case, Outcome, Ran, sitebench

SOURCE = "recover"
#: Three short runs; the third is killed in its windows.
RUN = ("-w", "thirdparty-count", "-w", "sha256", "-w", "thirdparty-count", "--idle", "0.05", "--warmup", "0.05",
       "--window", "0.3", "--repeats", "2", "--quiet", "--meter", "model")
#: A quick miners run (two windows of 1.5 s) for the steady miner; the ramping one stays in its warm-up.
MINERS_RUN = ("--period", "0.2", "--warmup", "600", "--window", "1.5", "--repeats", "2", "--timeout", "1")
#: Longer than recovering any of these journals can take.
LIMIT_S = 60.0


# --- the journal format, as documented ----------------------------------------------------------------------

def seal(body: bytes) -> bytes:
    """A journal line from its JSON object ``body`` (which holds ``n``): the CRC-32 of the body as ``c``, last."""
    return body[:-1] + b',"c":"%08x"}\n' % zlib.crc32(body)


def unseal(line: bytes) -> bytes:
    """The JSON object of a line without its checksum (and newline)."""
    line = line.rstrip(b"\r\n")
    return line[:-16] + b"}" if re.search(rb',"c":"[0-9a-f]{8}"\}$', line) else line


def compact(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def old_format(lines: list[bytes]) -> list[bytes]:
    """The journal as written before checksums: no ``n``, no ``c``, JSON's default separators."""
    out = []
    for line in lines:
        obj = json.loads(unseal(line))
        obj.pop("n", None)
        out.append(json.dumps(obj).encode() + b"\n")
    return out


def renumber(lines: list[bytes]) -> list[bytes]:
    """Lines given sequence numbers 0, 1, ... and sealed again (a writer that wrote them so)."""
    out = []
    for n, line in enumerate(lines):
        body = unseal(line)
        body = re.sub(rb'^\{"n":\d+,', b"{", body)
        out.append(seal(b'{"n":%d,' % n + body[1:]))
    return out


# --- real journals --------------------------------------------------------------------------------------------

@dataclass
class Journal:
    """A real journal, line by line (with newlines), and the truth it holds."""

    lines: list[bytes]
    objs: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.objs = [json.loads(unseal(x)) for x in self.lines]

    def find(self, kind: str, k: int = 0, **match: Any) -> int:
        """The index of the ``k``-th line of type ``kind`` (negative ``k`` from the end) matching ``match``."""
        hits = [i for i, o in enumerate(self.objs) if o.get("type") == kind and all(o.get(a) == v for a, v in match.items())]
        return hits[k]

    def runs(self, upto: int | None = None) -> list[dict[str, Any]]:
        """The completed runs' records (in lines [0, upto))."""
        return [o["run"] for o in self.objs[:upto] if o.get("type") == "run"]

    def open_run(self, upto: int | None = None) -> tuple[dict[str, Any], list[float]] | None:
        """The run in progress (its head) and the units of its windows."""
        objs = self.objs[:upto]
        starts = [i for i, o in enumerate(objs) if o.get("type") == "run-start"]
        if not starts or any(o.get("type") == "run" for o in objs[starts[-1]:]):
            return None
        start = objs[starts[-1]]
        wins = [o["units"] for o in objs[starts[-1]:] if o.get("type") == "window" and o["tag"] == start["tag"]]
        return start["head"], wins

    def window_lines(self, tag_run: int) -> list[int]:
        """The window lines of the ``tag_run``-th run-start."""
        start = self.find("run-start", tag_run)
        tag = self.objs[start]["tag"]
        end = next((i for i in range(start + 1, len(self.objs)) if self.objs[i].get("type") == "run-start"),
                   len(self.objs))
        return [i for i in range(start, end) if self.objs[i].get("type") == "window" and self.objs[i]["tag"] == tag]


_made: dict[str, Journal] = {}


def _complete_lines(data: bytes) -> list[bytes]:
    lines = data.splitlines(keepends=True)
    return lines[:-1] if lines and not lines[-1].endswith(b"\n") else lines


def _kill_when(argv: list[str], journal: Path, ready: Callable[[list[dict[str, Any]]], bool],
               env: dict[str, str]) -> list[bytes]:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **env})
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            if journal.exists():
                objs = [json.loads(unseal(x)) for x in _complete_lines(journal.read_bytes())]
                if ready(objs):
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=30)
                    return _complete_lines(journal.read_bytes())
            if proc.poll() is not None:
                raise RuntimeError(f"the run ended before it could be killed: {proc.stderr.read()[-2000:]!r}")
            time.sleep(0.01)
        raise RuntimeError("the run never got to where it is killed")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def runner_journal() -> Journal:
    """Three runs; killed with two complete and the third in its windows (made once per process)."""
    if "runner" not in _made:
        tmp = Path(tempfile.mkdtemp(prefix="sitebench-recover-cases-"))
        try:
            dist = make_distribution(tmp / "thirdparty")
            out = tmp / "r.json"

            def ready(objs: list[dict[str, Any]]) -> bool:
                starts = [i for i, o in enumerate(objs) if o.get("type") == "run-start"]
                if len(starts) < 3:
                    return False
                wins = [i for i in range(starts[2], len(objs)) if objs[i].get("type") == "window"]
                # a few lines after the third run's first window: deleting that window is then not the crash's cut
                return bool(wins) and len(objs) > wins[0] + 3

            lines = _kill_when([sys.executable, "-m", "bench", "run", *RUN, "--out", str(out)],
                               Path(f"{out}.journal.jsonl"), ready,
                               {"PYTHONPATH": f"{dist}{os.pathsep}{ROOT}", "SITEBENCH_CPU_TDP_W": "100"})
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _made["runner"] = Journal(lines)
    return _made["runner"]


def miners_journal() -> Journal:
    """Two simulated miners, one ramping for a minute; killed once the steady one's record is written."""
    if "miners" not in _made:
        from bench.testing.miners import SimFleet, SimMiner

        tmp = Path(tempfile.mkdtemp(prefix="sitebench-recover-cases-"))
        try:
            out = tmp / "m.json"
            miners = [SimMiner("127.0.26.10", difficulty=64), SimMiner("127.0.26.11", difficulty=64, ramp_s=30.0)]
            with SimFleet(miners):
                lines = _kill_when([sys.executable, "-m", "bench", "miners", "run", "127.0.26.10", "127.0.26.11",
                                    *MINERS_RUN, "--out", str(out)], Path(f"{out}.journal.jsonl"),
                                   lambda objs: any(o.get("type") == "run" for o in objs)
                                   and sum(o.get("type") == "poll" for o in objs) > 60,
                                   {"PYTHONPATH": str(ROOT)})
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _made["miners"] = Journal(lines)
    return _made["miners"]


# --- damage and judgement -------------------------------------------------------------------------------------

@dataclass
class Hurt:
    """A damaged journal and what an honest recovery of it must say.

    ``lines``: 1-based line numbers of the damaged file that must be reported; ``lost_bytes``: the bytes
    the damage took; ``clean``: nothing was lost (exit 0 expected); ``say``: words the report must hold;
    ``lost_runs``: completed runs (by index) of which nothing identifying survived (must be reported lost);
    ``partial``: completed runs whose windows were damaged too (a rebuilt run may have fewer);
    ``upto``: the truth is the journal's first ``upto`` lines (a file cut short earlier);
    ``not_journal``: the file is not a journal at all (exit 1, nothing written).
    """

    data: bytes
    lines: list[int] = field(default_factory=list)
    lost_bytes: int = 0
    clean: bool = False
    say: tuple[str, ...] = ()
    lost_runs: frozenset[int] = frozenset()
    partial: frozenset[int] = frozenset()
    upto: int | None = None
    not_journal: bool = False
    args: tuple[str, ...] = ()
    exit_code: int | None = None


def _key(run: dict[str, Any]) -> tuple[Any, ...]:
    return run.get("workload"), run.get("device"), run.get("started")


def judge(j: Journal, hurt: Hurt, ran: Ran, out: Path) -> Outcome:
    """What a recovery of ``hurt`` came to (see the module's docstring)."""
    verdict = ran.verdict_of_process()
    if verdict:
        return Outcome(verdict, (ran.stderr or ran.stdout)[-300:], hurt.lost_bytes)
    said = ran.stdout + ran.stderr
    if hurt.exit_code is not None:
        ok = ran.returncode == hurt.exit_code
        return Outcome("ok" if ok else "lost", "" if ok else f"exit {ran.returncode}: {said[-300:]}", hurt.lost_bytes)
    if hurt.not_journal:
        ok = ran.returncode == 1 and "error" in ran.stderr
        return Outcome("ok" if ok else "lost", "" if ok else f"exit {ran.returncode}: {said[-300:]}")
    if ran.returncode not in (0, 1):
        return Outcome("lost", f"exit {ran.returncode}: {said[-300:]}", hurt.lost_bytes)
    if hurt.clean and ran.returncode != 0:
        return Outcome("lie", f"exit 1 for a journal that lost nothing: {ran.stderr[-300:]}")
    if not hurt.clean and ran.returncode == 0:
        return Outcome("lost", f"exit 0 for a damaged journal: {said[-300:]}", hurt.lost_bytes)
    unreported = [n for n in hurt.lines if not re.search(rf"\bline {n}\b", ran.stderr)]
    if unreported:
        return Outcome("lost", f"damaged line(s) {unreported} not reported: {ran.stderr[-300:]}", hurt.lost_bytes)
    missing = [w for w in hurt.say if w not in said]
    if missing:
        return Outcome("lost", f"the report does not say {missing}: {ran.stderr[-300:]}", hurt.lost_bytes)
    if not out.exists():
        return Outcome("lost", f"no result file: {said[-300:]}", hurt.lost_bytes)
    got = {_key(r): r for r in json.loads(out.read_text())["runs"]}
    for i, truth in enumerate(j.runs(hurt.upto)):
        run = got.get(_key(truth))
        if run is None or (i in hurt.lost_runs and not run.get("throughput", {}).get("units")):
            if i in hurt.lost_runs and "lost" in ran.stderr:
                continue
            return Outcome("lost", f"completed run {i} ({truth['workload']}) missing: {ran.stderr[-300:]}",
                           hurt.lost_bytes)
        if run == truth:
            continue
        why = str(run.get("metrics", {}).get("recovered", ""))
        if not why:
            return Outcome("lie", f"completed run {i} came back different from its record without saying so",
                           hurt.lost_bytes)
        units, true_units = run["throughput"].get("units", []), truth["throughput"].get("units", [])
        if i in hurt.partial:
            if units != true_units[:len(units)]:
                return Outcome("lie", f"rebuilt run {i} has windows it did not measure: {units} vs {true_units}")
        elif units != true_units:
            return Outcome("lost", f"rebuilt run {i} lost windows that survived: {units} vs {true_units}",
                           hurt.lost_bytes)
    progress = j.open_run(hurt.upto)
    if progress is not None:
        head, wins = progress
        run = got.get((head["workload"], head["device"], head.get("started")))
        if run is None:
            if "lost" not in ran.stderr:
                return Outcome("lost", "the run in progress is missing without a report", hurt.lost_bytes)
        else:
            units = run["throughput"].get("units", [])
            if run["status"] == "failed" or units != wins[:len(units)]:
                return Outcome("lie", f"the run in progress came back {run['status']} with {units} (measured {wins})")
            if len(units) < len(wins) and hurt.clean:
                return Outcome("lost", f"the run in progress lost windows: {units} of {wins}")
    return Outcome("ok", "", hurt.lost_bytes)


def _recover(tmp: Path, hurt: Hurt, j: Journal, name: str = "r.json.journal.jsonl") -> Outcome:
    journal = tmp / name
    journal.write_bytes(hurt.data)
    out = tmp / name.removesuffix(".journal.jsonl")
    ran = sitebench("recover", str(journal), *hurt.args, timeout_s=LIMIT_S)
    return judge(j, hurt, ran, out)


def case(name: str, make: Callable[[Journal], Hurt], journal: Callable[[], Journal] = runner_journal) -> Case:
    def run(tmp: Path) -> Outcome:
        j = journal()
        return _recover(tmp, make(j), j)
    return Case(SOURCE, name, run)


def _join(lines: list[bytes]) -> bytes:
    return b"".join(lines)


def _flip(line: bytes, at: int) -> bytes:
    """One bit flipped at byte ``at`` (never into a line break)."""
    b = line[at] ^ 0x01
    if b in (0x0A, 0x0D):
        b = line[at] ^ 0x02
    return line[:at] + bytes([b]) + line[at + 1:]


def flipped(j: Journal, picks: list[tuple[int, int]]) -> Hurt:
    """Bits flipped in lines (index, byte offset; a negative offset counts from the end, newline excluded)."""
    lines = list(j.lines)
    for i, at in picks:
        body = lines[i][:-1]
        lines[i] = _flip(body, at % len(body)) + b"\n"
    hit = sorted({i for i, _ in picks})
    return Hurt(_join(lines), [i + 1 for i in hit], sum(len(j.lines[i]) for i in hit))


def _at(line: bytes, needle: bytes, offset: int = 0) -> int:
    return line.index(needle) + offset


def replaced(j: Journal, i: int, body: bytes, *, sealed: bool = True, **kw: Any) -> Hurt:
    """Line ``i`` replaced by ``body`` (its JSON object, sealed with a good checksum unless told not to)."""
    lines = list(j.lines)
    lines[i] = seal(body) if sealed else body + b"\n"
    return Hurt(_join(lines), [i + 1], len(j.lines[i]), **kw)


def inserted(j: Journal, i: int, raw: bytes, **kw: Any) -> Hurt:
    """A line inserted before line ``i`` (raw, with its newline); the others keep their numbers."""
    lines = list(j.lines)
    lines.insert(i, raw)
    return Hurt(_join(lines), [i + 1], 0, **kw)


def with_n(j: Journal, i: int, obj: dict[str, Any]) -> bytes:
    """``obj`` as the JSON object of line ``i`` (its sequence number first)."""
    return compact({"n": j.objs[i]["n"], **obj})


def _reading(j: Journal) -> int:
    return j.find("reading", len([o for o in j.objs if o.get("type") == "reading"]) // 2)


def _without(obj: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in (key, "n")}


def _set(obj: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {**{k: v for k, v in obj.items() if k != "n"}, **kw}


# --- the cases ------------------------------------------------------------------------------------------------

def _cut_short_last(j: Journal) -> Hurt:
    extra = j.lines[_reading(j)]
    return Hurt(_join(j.lines) + extra[: len(extra) // 2], [len(j.lines) + 1], clean=True, say=("cut short",))


def _run_line_cut_short(j: Journal) -> Hurt:
    i = j.find("run", 1)
    return Hurt(_join(j.lines[:i]) + j.lines[i][: len(j.lines[i]) // 2], [i + 1], clean=True, upto=i,
                say=("cut short",))


def _power_cut_zeros(j: Journal) -> Hurt:
    return Hurt(_join(j.lines) + b"\0" * 4096, [len(j.lines) + 1], clean=True)


def _blank_lines(j: Journal) -> Hurt:
    return Hurt(b"\n".join(j.lines) + b"\n\n", clean=True)


def _crlf(j: Journal) -> Hurt:
    return Hurt(_join([x[:-1] + b"\r\n" for x in j.lines]), clean=True)


def _old(j: Journal) -> Hurt:
    return Hurt(_join(old_format(j.lines)), clean=True, say=("unchecked",))


def _old_damaged(j: Journal, i: int, body: bytes, **kw: Any) -> Hurt:
    lines = old_format(j.lines)
    lines[i] = body + b"\n"
    return Hurt(_join(lines), [i + 1], len(j.lines[i]), say=("unchecked",), **kw)


def _old_flip_run(j: Journal) -> Hurt:
    lines = old_format(j.lines)
    i = j.find("run", 0)
    return _old_damaged(j, i, lines[i][:-1].replace(b'"status": "ok"', b'"status": "ok', 1))


def _deleted(j: Journal, i: int, **kw: Any) -> Hurt:
    lines = list(j.lines)
    del lines[i]
    return Hurt(_join(lines), [], len(j.lines[i]), say=("missing",), **kw)


def _duplicated(j: Journal, i: int) -> Hurt:
    lines = list(j.lines)
    lines.insert(i + 1, lines[i])
    return Hurt(_join(lines), [i + 2], 0, say=("repeats",))


def _swapped(j: Journal, i: int, k: int) -> Hurt:
    lines = list(j.lines)
    lines[i], lines[k] = lines[k], lines[i]
    return Hurt(_join(lines), [max(i, k) + 1], 0, say=("out of order",))


def _shuffled(j: Journal, seed: int) -> Hurt:
    lines = list(j.lines)
    random.Random(seed).shuffle(lines)
    return Hurt(_join(lines), [], 0, say=("out of order",))


def _random_flips(j: Journal, seed: int, count: int) -> Hurt:
    rng = random.Random(seed)
    picks = [(i, rng.randrange(len(j.lines[i]) - 1)) for i in rng.sample(range(len(j.lines)), count)]
    hurt = flipped(j, picks)
    runs = [i for i, o in enumerate(j.objs) if o.get("type") == "run"]
    starts = [i for i, o in enumerate(j.objs) if o.get("type") == "run-start"]
    hit = {i for i, _ in picks}
    for k, (s, r) in enumerate(zip(starts, runs)):
        if r in hit and s in hit:
            hurt.lost_runs |= {k}
        if r in hit and set(j.window_lines(k)) & hit:
            hurt.partial |= {k}
    return hurt


def _merged(j: Journal) -> Hurt:
    i = j.find("run", 0)
    lines = list(j.lines)
    lines[i] = lines[i][:-1] + b"\x0b"  # the newline's bit flipped: the run line and the next become one
    return Hurt(_join(lines), [i + 1], len(j.lines[i]) + len(j.lines[i + 1]))


def _split(j: Journal) -> Hurt:
    i = j.find("run", 0)
    lines = list(j.lines)
    half = len(lines[i]) // 2
    lines[i] = lines[i][:half] + b"\n" + lines[i][half:]
    return Hurt(_join(lines), [i + 1, i + 2], len(j.lines[i]))


def _truncated_at_line(j: Journal) -> Hurt:
    i = j.find("run", 1)
    return Hurt(_join(j.lines[:i]), clean=True, upto=i)


def _giant(j: Journal, size: int, *, last: bool = False) -> Hurt:
    i = _reading(j)
    line = b'{"n":%d,"type":"reading","meter":"model:cpu","t":1.0,"note":"' % j.objs[i]["n"] + b"a" * size + b'"}'
    if last:  # over the limit, so not a line cut short by a crash: damage
        return Hurt(_join(j.lines) + line, [len(j.lines) + 1], len(line))
    lines = list(j.lines)
    lines.insert(i, line + b"\n")
    return Hurt(_join(lines), [i + 1], len(line) + 1)


def _deep(j: Journal, depth: int, sealed: bool) -> Hurt:
    i = _reading(j)
    body = b'{"n":%d,"type":"reading","meter":"model:cpu","t":1.0,"extra":{"x":' % j.objs[i]["n"] + b"[" * depth \
        + b"]" * depth + b"}}"
    return replaced(j, i, body, sealed=sealed)


def _over_journal_limit(j: Journal) -> Hurt:
    size = sum(len(x) for x in j.lines[: j.find("run", 0)])
    hurt = Hurt(_join(j.lines), say=("byte limit",), args=("--max-bytes", str(size)), upto=None)
    hurt.lost_bytes = len(hurt.data) - size
    hurt.lost_runs = frozenset({0, 1})
    hurt.lines = [j.find("run", 0) + 1]
    return hurt


def _line_limit(j: Journal) -> Hurt:
    runs = [j.find("run", 0), j.find("run", 1)]
    limit = max(len(x) for i, x in enumerate(j.lines) if i not in runs)  # every line but the records
    return Hurt(_join(j.lines), [i + 1 for i in runs], sum(len(j.lines[i]) for i in runs),
                args=("--max-line-bytes", str(limit)), say=("line limit",))


def _no_checksum(j: Journal) -> Hurt:
    i = _reading(j)
    return replaced(j, i, unseal(j.lines[i]), sealed=False, say=("no checksum",))


def _header_moved_last(j: Journal) -> Hurt:
    return Hurt(_join(j.lines[1:] + j.lines[:1]), [len(j.lines)], 0, say=("out of order",))


def _twice(j: Journal) -> Hurt:
    return Hurt(_join(j.lines + j.lines), [len(j.lines) + 1], 0, say=("repeats",))


def _forged_window(j: Journal, **change: Any) -> Hurt:
    """A window line of the run in progress written wrong (with a good checksum: a writer's bug)."""
    i = j.window_lines(2)[0]
    return replaced(j, i, with_n(j, i, _set(j.objs[i], **change)))


def _raw_window(j: Journal, text: bytes) -> Hurt:
    i = j.window_lines(2)[0]
    body = unseal(j.lines[i])
    return replaced(j, i, re.sub(rb'"duration_s":[^,}]+', b'"duration_s":' + text, body))


def _raw_reading(j: Journal, text: bytes, sealed: bool = True) -> Hurt:
    i = _reading(j)
    body = unseal(j.lines[i])
    return replaced(j, i, re.sub(rb'"power_w":[^,}]+', b'"power_w":' + text, body), sealed=sealed)


def _forged(j: Journal, kind: str, k: int, obj: dict[str, Any] | Any, **kw: Any) -> Hurt:
    i = j.find(kind, k)
    if isinstance(obj, dict):
        return replaced(j, i, with_n(j, i, obj), **kw)
    return replaced(j, i, compact(obj), **kw)


def _forged_run(j: Journal, k: int, **run: Any) -> Hurt:
    i = j.find("run", k)
    return replaced(j, i, with_n(j, i, {"type": "run", "run": {**j.objs[i]["run"], **run}}))


def _second_window(j: Journal) -> Hurt:
    """A writer that wrote window 0 of the run in progress twice, the second time with other figures."""
    i = j.window_lines(2)[0]
    lines = list(j.lines)
    lines.insert(i + 1, seal(with_n(j, i, _set(j.objs[i], units=j.objs[i]["units"] * 3))))
    return Hurt(_join(renumber(lines)), [i + 2], len(lines[i + 1]), say=("a second window",))


def _old_window(j: Journal, **change: Any) -> Hurt:
    i = j.window_lines(2)[0]
    obj = {k: v for k, v in j.objs[i].items() if k != "n"}
    obj.update(change)
    return _old_damaged(j, i, json.dumps(obj).encode())


def _old_duplicate_window(j: Journal) -> Hurt:
    lines = old_format(j.lines)
    i = j.window_lines(2)[0]
    obj = {k: v for k, v in j.objs[i].items() if k != "n"}
    lines.insert(i + 1, json.dumps({**obj, "units": obj["units"] * 3}).encode() + b"\n")
    return Hurt(_join(lines), [i + 2], len(lines[i + 1]), say=("a second window",))


def _miners_poll(j: Journal) -> int:
    return j.find("poll", 20)


def _not_journal(data: bytes) -> Callable[[Journal], Hurt]:
    return lambda j: Hurt(data, not_journal=True)


def _usage(name: str, make: Callable[[Path], list[str]]) -> Case:
    def run(tmp: Path) -> Outcome:
        ran = sitebench("recover", *make(tmp), timeout_s=LIMIT_S)
        verdict = ran.verdict_of_process()
        if verdict:
            return Outcome(verdict, ran.stderr[-300:])
        return Outcome("ok" if ran.returncode == 2 else "lost", f"exit {ran.returncode}: {ran.stderr[-300:]}")
    return Case(SOURCE, name, run)


def _existing_out(tmp: Path) -> list[str]:
    (tmp / "r.json.journal.jsonl").write_bytes(_join(runner_journal().lines))
    (tmp / "x.json").write_text("{}")
    return [str(tmp / "r.json.journal.jsonl"), "--out", str(tmp / "x.json")]


R0, R1 = "run0", "run1"

CASES: list[Case] = [
    # nothing lost
    case("pristine", lambda j: Hurt(_join(j.lines), clean=True, say=("nothing lost",))),
    case("last line cut short by the crash", _cut_short_last),
    case("completed run's line cut short as the last line", _run_line_cut_short),
    case("power cut: zeroed block at the end", _power_cut_zeros),
    case("file cut at a line boundary", _truncated_at_line),
    case("blank lines", _blank_lines),
    case("CRLF line endings", _crlf),
    case("journal from before checksums", _old),
    # flipped bits: the checksum knows
    case("flip in the header", lambda j: flipped(j, [(0, 120)])),
    case("flip in run 1's run-start", lambda j: flipped(j, [(j.find("run-start", 0), 40)])),
    case("flip in a window of run 1", lambda j: flipped(j, [(j.window_lines(0)[0], -20)])),
    case("flip in a reading", lambda j: flipped(j, [(_reading(j), 30)])),
    case("flip in a marker", lambda j: flipped(j, [(j.find("marker", 3), 25)])),
    case("flip in run 1's record: a figure", lambda j: flipped(j, [(j.find("run", 0), _at(j.lines[j.find("run", 0)],
                                                                                           b'"units":[', 10))])),
    case("flip in run 1's record: its type", lambda j: flipped(j, [(j.find("run", 0), _at(j.lines[j.find("run", 0)],
                                                                                          b'"type":"run"', 9))])),
    case("flip in run 1's record: its status", lambda j: flipped(j, [(j.find("run", 0), _at(
        j.lines[j.find("run", 0)], b'"status":"ok"', 11))])),
    case("flip in run 1's record: the checksum", lambda j: flipped(j, [(j.find("run", 0), -4)])),
    case("flip in run 1's record: the sequence number", lambda j: flipped(j, [(j.find("run", 0), 5)])),
    case("flip in run 2's record", lambda j: flipped(j, [(j.find("run", 1), 300)])),
    case("flips in both records", lambda j: flipped(j, [(j.find("run", 0), 200), (j.find("run", 1), 200)])),
    case("flips in run 1's record and its windows", lambda j: Hurt(**{
        **flipped(j, [(j.find("run", 0), 200)] + [(i, -20) for i in j.window_lines(0)]).__dict__,
        "partial": frozenset({0})})),
    case("flips in run 1's record and its run-start", lambda j: Hurt(**{
        **flipped(j, [(j.find("run", 0), 200), (j.find("run-start", 0), 30)]).__dict__,
        "lost_runs": frozenset({0})})),
    case("flip in the running run's run-start", lambda j: flipped(j, [(j.find("run-start", 2), 30)])),
    case("flip in the running run's window", lambda j: flipped(j, [(j.window_lines(2)[0], -20)])),
    case("newline flipped: run 1's record merged with the next line", _merged),
    case("newline inserted in run 1's record", _split),
    *[case(f"random flips, seed {s}", lambda j, s=s: _random_flips(j, s, 1 + s % 5)) for s in range(8)],
    # lines lost, repeated, moved
    case("a reading deleted", lambda j: _deleted(j, _reading(j))),
    case("run 1's record deleted", lambda j: _deleted(j, j.find("run", 0))),
    case("the header deleted", lambda j: _deleted(j, 0)),
    case("a window of run 1 deleted", lambda j: _deleted(j, j.window_lines(0)[1])),
    case("the running run's first window deleted", lambda j: _deleted(j, j.window_lines(2)[0])),
    case("a reading repeated", lambda j: _duplicated(j, _reading(j))),
    case("run 1's record repeated", lambda j: _duplicated(j, j.find("run", 0))),
    case("a window repeated", lambda j: _duplicated(j, j.window_lines(1)[0])),
    case("the header repeated", lambda j: _duplicated(j, 0)),
    case("two readings swapped", lambda j: _swapped(j, _reading(j), _reading(j) + 2)),
    case("run 1's record swapped with the line before", lambda j: _swapped(j, j.find("run", 0) - 1, j.find("run", 0))),
    case("the header moved last", _header_moved_last),
    case("every line reversed", lambda j: Hurt(_join(j.lines[::-1]), [], 0, say=("out of order",))),
    case("every line shuffled", lambda j: _shuffled(j, 1)),
    case("the journal twice over", _twice),
    # not a journal
    case("an empty file", _not_journal(b"")),
    case("random bytes", _not_journal(bytes(random.Random(5).randrange(256) for _ in range(65536)))),
    case("a JSON array", _not_journal(b"[1, 2, 3]\n")),
    case("a result file given as the journal", _not_journal(b'{"schema": "sitebench.result/2", "runs": []}\n')),
    _usage("a directory given as the journal", lambda tmp: [str(tmp)]),
    _usage("an existing --out without --force", _existing_out),
    _usage("a negative --max-bytes", lambda tmp: [str(tmp / "j"), "--max-bytes", "-5"]),
    # lines a checksum cannot catch (a writer's bug: written wrong, sealed right): types and bounds
    case("reading without t", lambda j: _forged(j, "reading", 5, _without(j.objs[j.find("reading", 5)], "t"))),
    case("reading of NaN watts", lambda j: _raw_reading(j, b"NaN")),
    case("reading of Infinity watts", lambda j: _raw_reading(j, b"Infinity")),
    case("reading of 1e999 watts", lambda j: _raw_reading(j, b"1e999")),
    case("reading of negative watts", lambda j: _raw_reading(j, b"-300.0")),
    case("reading of 1e300 watts", lambda j: _raw_reading(j, b"1e300")),
    case("reading of watts as a string", lambda j: _raw_reading(j, b'"12"')),
    case("reading of watts as an object", lambda j: _raw_reading(j, b'{"w":1}')),
    case("reading with a 5000-digit integer", lambda j: _raw_reading(j, b"9" * 5000)),
    case("reading with a key twice", lambda j: _raw_reading(j, b'1.0,"power_w":2.0')),
    case("reading going back in time", lambda j: _forged(j, "reading", 20, _set(j.objs[j.find("reading", 20)], t=0.5))),
    case("marker without its phase", lambda j: _forged(j, "marker", 4, _without(j.objs[j.find("marker", 4)], "phase"))),
    case("marker going back in time", lambda j: _forged(j, "marker", 4, _set(j.objs[j.find("marker", 4)], t=0.5))),
    case("window of zero duration", lambda j: _forged_window(j, duration_s=0.0)),
    case("window of negative duration", lambda j: _forged_window(j, duration_s=-0.3)),
    case("window of NaN duration", lambda j: _raw_window(j, b"NaN")),
    case("window of duration as a string", lambda j: _forged_window(j, duration_s="0.3")),
    case("window of 1e308 units", lambda j: _forged_window(j, units=1e308)),
    case("window of negative index", lambda j: _forged_window(j, index=-1)),
    case("window of index 1e20", lambda j: _forged_window(j, index=10**20)),
    case("a second window 0 with other figures", lambda j: _second_window(j)),
    case("run record with a bogus status", lambda j: _forged_run(j, 0, status="bogus")),
    case("run record of 30 MW", lambda j: _forged_run(j, 0, power={**j.objs[j.find("run", 0)]["run"]["power"],
                                                                    "avg_w": 3e7})),
    case("run record as a string", lambda j: _forged(j, "run", 0, {"type": "run", "run": "ok"})),
    case("run-start without a workload", lambda j: _forged(j, "run-start", 2, {
        "type": "run-start", "tag": j.objs[j.find("run-start", 2)]["tag"],
        "head": _without(j.objs[j.find("run-start", 2)]["head"], "workload")})),
    case("header's document a number", lambda j: _forged(j, "header", 0, {"type": "header", "document": 1})),
    case("a line that is an array", lambda j: _forged(j, "reading", 7, [1, 2])),
    case("a line that is null", lambda j: replaced(j, j.find("reading", 7), b"null", sealed=False)),
    case("a line of an unknown type", lambda j: _forged(j, "reading", 7, {"type": "zzz"})),
    case("a line of invalid UTF-8", lambda j: replaced(j, j.find("reading", 7), b'{"n":1,"type":"\xff\xfe"}')),
    case("a line without its checksum", _no_checksum),
    case("deep nesting: 100,000 levels", lambda j: _deep(j, 100_000, sealed=True)),
    case("deep nesting: 40 levels", lambda j: _deep(j, 40, sealed=True)),
    case("a 100 MB line", lambda j: _giant(j, 100 * 1024 * 1024)),
    case("a 100 MB last line", lambda j: _giant(j, 100 * 1024 * 1024, last=True)),
    case("journal over --max-bytes", _over_journal_limit),
    case("records over --max-line-bytes", _line_limit),
    # journals from before checksums: damage shows where a line fails to parse or its types
    case("old journal: run 1's record not JSON", _old_flip_run),
    case("old journal: NaN watts", lambda j: _old_damaged(j, _reading(j), re.sub(
        rb'"power_w": [^,}]+', b'"power_w": NaN', old_format(j.lines)[_reading(j)][:-1]))),
    case("old journal: window without its duration", lambda j: _old_damaged(j, j.window_lines(2)[0], json.dumps(
        _without(j.objs[j.window_lines(2)[0]], "duration_s")).encode())),
    case("old journal: window of zero duration", lambda j: _old_window(j, duration_s=0)),
    case("old journal: a second window 0", _old_duplicate_window),
    # the miners journal
    case("miners: pristine", lambda j: Hurt(_join(j.lines), clean=True), miners_journal),
    case("miners: flip in a poll", lambda j: flipped(j, [(_miners_poll(j), 60)]), miners_journal),
    case("miners: flip in the miners line", lambda j: flipped(j, [(j.find("miners", 0), 60)]), miners_journal),
    case("miners: flip in a miner's record", lambda j: flipped(j, [(j.find("run", 0), 400)]), miners_journal),
    case("miners: poll of NaN hashes", lambda j: replaced(j, _miners_poll(j), re.sub(
        rb'"hashes":[^,}]+', b'"hashes":NaN', unseal(j.lines[_miners_poll(j)]))), miners_journal),
    case("miners: poll of negative hashes", lambda j: replaced(j, _miners_poll(j), re.sub(
        rb'"hashes":[^,}]+', b'"hashes":-1e15', unseal(j.lines[_miners_poll(j)]))), miners_journal),
    case("miners: poll of a miner not in the run", lambda j: replaced(j, _miners_poll(j), re.sub(
        rb'"miner":"[^"]+"', b'"miner":"10.9.9.9:4028"', unseal(j.lines[_miners_poll(j)]))), miners_journal),
    case("miners: a poll deleted", lambda j: _deleted(j, _miners_poll(j)), miners_journal),
    case("miners: journal from before checksums", lambda j: Hurt(_join(old_format(j.lines)), clean=True,
                                                                 say=("unchecked",)), miners_journal),
]
