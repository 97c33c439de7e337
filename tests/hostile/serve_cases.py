"""Hostile servers: a fake OpenAI-compatible server on loopback that misbehaves or lies, against ``sitebench serve``.

Each case serves :class:`~bench.testing.openai_server.FakeServer` with a hostile
:class:`~bench.testing.openai_server.Behaviour` over real sockets and runs ``sitebench serve`` in a
bounded child process (:func:`tests.hostile.framework.sitebench`) with short limits (:data:`SHORT`: a
read timeout of 2 s, a deadline of 4 s a request). The server truly generates :data:`TRUE_OUT` tokens
for every request, whatever it says. A case is judged on what came out:

- ``traceback`` / ``hang``: the child showed a traceback, ran out of memory, or took longer than
  :data:`HANG_S` (every request is bounded by its deadline: the probe and three waves of four
  requests cannot take longer);
- ``lie``: a run recorded ``verified`` with more output tokens a completed request than
  :data:`LIE_MARGIN` x :data:`TRUE_OUT` (a token rate beyond what was streamed);
- ``lost``: no result file where the load was measured, an honest request beside a hostile one not
  measured, or an honest server (tokens held back, text-less token chunks, several tokens a chunk)
  refused or not verified;
- ``ok`` otherwise: refused in one clear line (exit 2), or each bad request one failure with its reason.

Three groups: the server is bad from its first request (the probe refuses it, exit 2), bad on some
requests of the load only (:data:`BAD`: those fail, the others are measured and the file written), or
honest in ways real servers are (:data:`HONEST` cases: all measured, verified).

``python benchmarks/hostile_sources.py --source serve -v`` runs them all.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.testing.openai_server import Behaviour, ServerThread
from tests.hostile.framework import Case, Outcome, Ran, sitebench

SOURCE = "serve"
#: Tokens the fake server truly generates for each request (the dataset's output cap).
TRUE_OUT = 6
#: Requests of the load (the probe sends two before them: requests 0 and 1).
N = 12
SHORT = ("--dataset", f"random:in=8,out={TRUE_OUT}", "--num-prompts", str(N), "--max-concurrency", "4",
         "--timeout", "2", "--deadline", "4", "--meter", "model", "--quiet")
#: Longer than any bounded run of :data:`SHORT` takes (discovery and the probe: 3 deadlines; the load:
#: three waves of four requests, each at most a deadline), child start-up included.
HANG_S = 45.0
#: A verified figure this far above the truth is a lie.
LIE_MARGIN = 1.1


def BAD(n: int) -> bool:  # noqa: N802 - a constant of the cases, as a predicate
    """The load's requests that misbehave in the mid-run cases: every third (4 of 12), never the probe."""
    return n >= 2 and n % 3 == 0


#: Load requests that stay honest in the mid-run cases: they must all be measured.
GOOD = sum(1 for n in range(2, 2 + N) if not BAD(n))


def _tail(ran: Ran) -> str:
    return (ran.stderr.strip().splitlines() or ran.stdout.strip().splitlines() or [""])[-1][:300]


def _judge(runs: list[dict[str, Any]], *, honest: bool, good: int) -> Outcome:
    for run in runs:
        mt = run.get("metrics") or {}
        completed, tokens = mt.get("completed") or 0, mt.get("total_output_tokens") or 0
        units = sum((run.get("throughput") or {}).get("units") or [])
        if run.get("verified") and completed and max(tokens / completed, units / completed) > LIE_MARGIN * TRUE_OUT:
            return Outcome("lie", f"verified at {tokens / completed:.3g} output tokens a request, truly {TRUE_OUT}")
        if run.get("status") != "ok" and not run.get("error"):
            return Outcome("lost", f"a {run.get('status')} run without a reason")
        if completed < good:
            return Outcome("lost", f"{completed} requests measured, {good} were honest: {str(run.get('error'))[:200]}")
        if honest and not (run.get("status") == "ok" and run.get("verified") and completed == N):
            return Outcome("lost", f"an honest server refused: {run.get('status')}, verified={run.get('verified')}, "
                                   f"{completed} of {N}: {mt.get('verification') or run.get('error')}")
    run = runs[0]
    mt = run.get("metrics") or {}
    reasons = ", ".join(k.removeprefix("failures.") + f" x{v}" for k, v in mt.items() if k.startswith("failures."))
    return Outcome("ok", f"{mt.get('completed')} of {N} measured, verified={run.get('verified')}"
                         + (f"; {reasons}" if reasons else ""))


def _serve(behaviour: Behaviour, *, expect: str, args: tuple[str, ...] = (), honest: bool = False) -> Callable[[Path], Outcome]:
    """``sitebench serve`` against the server; ``expect`` ``refused`` (exit 2, one line) or ``file`` (a result file)."""

    def run(tmp: Path) -> Outcome:
        out = tmp / "s.json"
        with ServerThread(behaviour) as srv:
            t0 = time.monotonic()
            ran = sitebench("serve", "--base-url", srv.url, *SHORT, *args, "--out", str(out), timeout_s=HANG_S + 15)
            took = time.monotonic() - t0
        verdict = ran.verdict_of_process()
        if verdict is not None:
            return Outcome(verdict, f"after {took:.1f} s: {_tail(ran)}")
        if took > HANG_S:
            return Outcome("hang", f"took {took:.1f} s, more than the limits allow ({HANG_S:g} s)")
        if not out.exists():
            if expect == "refused" and ran.returncode in (1, 2) and len(ran.stderr.strip().splitlines()) == 1:
                return Outcome("ok", f"{took:.1f} s, refused: {_tail(ran)}")
            return Outcome("lost", f"exit {ran.returncode}, no result file: {_tail(ran)}")
        try:
            runs = json.loads(out.read_text(encoding="utf-8"))["runs"]
        except (ValueError, KeyError, TypeError) as exc:
            return Outcome("lost", f"the result file does not read: {exc}")
        if not runs:
            return Outcome("lost", "a result file without runs")
        judged = _judge(runs, honest=honest, good=GOOD if expect == "file" and not honest else 0)
        return Outcome(judged.verdict, f"{took:.1f} s, exit {ran.returncode}: {judged.detail}")

    return run


def _case(name: str, behaviour: Behaviour, *, expect: str = "refused", args: tuple[str, ...] = (),
          honest: bool = False) -> Case:
    return Case(SOURCE, name, _serve(behaviour, expect=expect, args=args, honest=honest))


def _mid(name: str, **kw: Any) -> Case:
    """The server goes bad on every third request of the load only (:func:`BAD`)."""
    return _case(f"{name}-on-some-requests", Behaviour(bad=BAD, **kw), expect="file")


def _honest(name: str, args: tuple[str, ...] = (), **kw: Any) -> Case:
    return _case(name, Behaviour(**kw), expect="file", args=args, honest=True)


def _sub(pattern: str, repl: str) -> Callable[[str], str]:
    return lambda text: re.sub(pattern, repl, text)


def _edit_choices(change: Callable[[list[Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    return lambda obj: {**obj, "choices": change(obj["choices"])} if obj.get("choices") else obj


DEEP = "[" * 5000 + "]" * 5000
CHAT = ("--endpoint", "chat")
#: Everything that goes wrong on a stream, by name (the probe, or requests of the load).
STREAM_BAD: dict[str, dict[str, Any]] = {
    "endless-stream": {"misbehave": "endless"},
    "a-byte-a-second-trickle": {"misbehave": "trickle", "trickle_s": 1.0},
    "keep-alives-forever": {"misbehave": "pings"},
    "a-100-MB-data-line": {"misbehave": "giant-line", "size": 100 << 20},
    "an-endless-error-body": {"misbehave": "endless-error"},
    "an-endless-answer-head": {"misbehave": "endless-header"},
    "the-head-then-silence": {"misbehave": "silence"},
    "choices-an-object": {"edit": _edit_choices(lambda c: {"0": c[0]})},
    "choices-a-list-of-strings": {"edit": _edit_choices(lambda c: ["text"])},
    "usage-a-list": {"tamper": _sub(r'"usage": \{[^}]*\}', '"usage": [6, 6]')},
    "completion_tokens-twice": {"tamper": _sub(r'"completion_tokens": (\d+)',
                                               r'"completion_tokens": \1, "completion_tokens": 600')},
    "NaN-in-an-event": {"tamper": _sub(r'"created": 0', '"created": NaN')},
    "an-event-nested-5000-deep": {"tamper": _sub(r'"created": 0', f'"created": {DEEP}')},
    "an-event-not-JSON": {"tamper": lambda text: text.replace("{", "<", 1)},
    "an-event-a-JSON-list": {"edit": lambda obj: [obj]},
    "an-error-event-mid-stream": {"edit": lambda obj: {**obj, "error": {"message": "boom"}} if obj.get("choices") else obj},
    "completion_tokens-a-string": {"usage_tokens": str},
    "completion_tokens-a-float": {"usage_tokens": lambda n: n + 0.5},
    "completion_tokens-negative": {"usage_tokens": lambda n: -n},
    "completion_tokens-1e308": {"tamper": _sub(r'"completion_tokens": \d+', '"completion_tokens": 1e308')},
    "completion_tokens-a-5000-digit-number": {"tamper": _sub(r'"completion_tokens": \d+', '"completion_tokens": ' + "9" * 5000)},
    "usage-2x-the-events": {"usage_tokens": lambda n: 2 * n},
    "usage-1e12x-the-events": {"usage_tokens": lambda n: n * 10**12},
    "usage-half-the-events": {"usage_tokens": lambda n: n // 2},
    "usage-0-with-tokens-streamed": {"usage_tokens": lambda n: 0},
}

CASES: list[Case] = [
    # bad from the first request: the probe (or the model list) refuses the server in one line
    *(_case(name, Behaviour(**kw)) for name, kw in STREAM_BAD.items()),
    _case("accepts-and-never-answers", Behaviour(misbehave="no-answer")),
    _case("prompt_tokens-negative-in-the-probe", Behaviour(prompt_tokens=lambda n: -n)),
    _case("prompt_tokens-1000-a-word-in-the-probe", Behaviour(prompt_tokens=lambda n: 1000 * n)),
    _case("prompt_tokens-a-word-per-64-in-the-probe", Behaviour(prompt_tokens=lambda n: n // 64 + 1)),
    _case("no-usage-and-no-tokenizer", Behaviour(usage=False)),
    _case("models-of-600-MB-declared", Behaviour(misbehave="huge-models", size=600 << 20)),
    _case("models-of-600-MB-chunked", Behaviour(misbehave="huge-models-chunked", size=600 << 20)),
    _case("models-nested-100000-deep", Behaviour(misbehave="deep-models", size=100_000)),
    _case("models-trickled", Behaviour(misbehave="trickle-models", trickle_s=0.5)),
    _case("chat-usage-2x-the-events", Behaviour(usage_tokens=lambda n: 2 * n), args=CHAT),
    _case("chat-role-chunk-then-endless", Behaviour(misbehave="endless"), args=CHAT),
    # bad on some requests of the load: those fail with their reason, the others are measured
    *(_mid(name, **STREAM_BAD[name]) for name in (
        "endless-stream", "a-byte-a-second-trickle", "keep-alives-forever", "a-100-MB-data-line", "an-endless-error-body",
        "the-head-then-silence", "choices-an-object", "completion_tokens-twice", "usage-2x-the-events",
        "usage-1e12x-the-events", "usage-half-the-events", "an-error-event-mid-stream")),
    # honest servers as real ones are: never refused
    _honest("honest"),
    _honest("tokens-held-back-no-text-at-all", hold=TRUE_OUT, closer=True),
    _honest("tokens-held-back-no-text-at-all-chat", CHAT, hold=TRUE_OUT, closer=True),
    _honest("three-tokens-held-back-then-text", hold=3, closer=True),
    _honest("text-less-token-chunks", text=""),
    _honest("three-tokens-a-chunk", tokens_per_chunk=3),
    _honest("keep-alives-crlf-and-split-characters", text="\u00e9\U0001f4a1", keepalive=True, crlf=True, split=True),
]
