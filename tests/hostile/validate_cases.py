"""Hostile result files through ``sitebench validate``: forged and malformed files, each made from an honest one.

The honest files come from the live code: one short real ``sitebench run -w sha256d`` (made once per process,
a few seconds), a plain pytest-benchmark JSON converted by :mod:`bench.benchmarking.convert` (a run with no
windows and no power), and a miner's run built by the miners front end's own analysis and record
(:func:`bench.miners.measure.outcome.analyse`, :func:`bench.miners.record.runrecord.miner_run`) from a simulated
miner's polls. Each case changes a copy of one, writes it and runs ``sitebench validate`` on it in a
child process. ``ok``: a forged or malformed file exits 1 with a line naming the file and a JSON path (or an
honest file exits 0); ``lie``: a forged or malformed file exits 0, or an honest one is refused; ``traceback``
and ``hang`` as the process shows them.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.hostile.framework import Case, Outcome, sitebench

SOURCE = "validate"
Doc = dict[str, Any]
_BASES: dict[str, Doc] = {}


def _run_base() -> Doc:
    """The honest file of a short real run (``sitebench run -w sha256d``), made once."""
    if "run" not in _BASES:
        with tempfile.TemporaryDirectory(prefix="sitebench-hostile-") as tmp:
            out = Path(tmp) / "honest.json"
            ran = sitebench("run", "-w", "sha256d", "--idle", "0.2", "--warmup", "0.2", "--window", "0.4",
                            "--repeats", "3", "--quiet", "--out", str(out), cwd=Path(tmp), timeout_s=300)
            if ran.returncode != 0 or not out.exists():
                raise RuntimeError(f"the honest base run failed (exit {ran.returncode}): {ran.stderr[-300:]}")
            _BASES["run"] = json.loads(out.read_text())
    return copy.deepcopy(_BASES["run"])


def _converted_base() -> Doc:
    """The honest file of a plain pytest-benchmark entry converted by the live code: no windows, no power."""
    from bench.benchmarking.convert import to_result

    bench = {"benchmarks": [{"group": "hash", "name": "test_hash", "stats": {"data": [0.5, 0.25, 1.0]},
                             "extra_info": {"workload": "hash", "unit": "hash", "units_per_round": 1e6}}]}
    return json.loads(json.dumps(to_result(bench).to_json()))


def _miner_base() -> Doc:
    """The honest file of one miner (firmware power, pool shares agreeing), built by the miners' own code."""
    from bench.miners.measure.outcome import analyse
    from bench.miners.record.runrecord import miner_run
    from bench.record import System, new_document
    from tests.bench.miners.record.test_record import M50, PLAN, polls

    run = miner_run(analyse(M50, polls(M50, power=3300.0), PLAN), PLAN, 100.0)
    return json.loads(json.dumps(new_document(System(hostname="h"), [run]).to_json()))


def _validate(tmp: Path, text: str | bytes, *, honest: bool) -> Outcome:
    path = tmp / "r.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    ran = sitebench("validate", str(path), cwd=tmp, timeout_s=120)
    shown = ran.verdict_of_process()
    if shown is not None:
        return Outcome(shown, (ran.stderr or ran.stdout)[-300:])
    first = next((line for line in ran.stdout.splitlines() if ": $" in line and ": note: " not in line),
                 ran.stdout.strip()[:300])
    if honest:
        return Outcome("ok") if ran.returncode == 0 else Outcome("lie", f"an honest file refused: {first}")
    if ran.returncode == 0:
        return Outcome("lie", f"accepted: {ran.stdout.strip()[-300:]}")
    if ran.returncode != 1 or f"{path}: $" not in ran.stdout:
        return Outcome("traceback", f"exit {ran.returncode} without a finding naming a JSON path: "
                                    f"{(ran.stdout + ran.stderr)[-300:]}")
    return Outcome("ok", first)


def _energy_x(run: Doc, k: float) -> None:
    """The run's energy x k in every field that holds it (the readings' trace left as measured)."""
    p = run["power"]
    for key in ("energy_j", "avg_w"):
        p[key] *= k
    p["window_energy_j"] = [e * k for e in p.get("window_energy_j", [])]
    for m in p.get("meters", []):
        if m.get("energy_j") is not None:
            m["energy_j"] *= k
            m["avg_w"] *= k
    run["efficiency"]["per_joule"] /= k


def _windows_only_removed(run: Doc) -> None:
    run["phases"] = [ph for ph in run["phases"] if not ph["name"].startswith("window-")]


def _forged(change: Callable[[Doc], None], base: Callable[[], Doc] = _run_base) -> Callable[[Path], Outcome]:
    def go(tmp: Path) -> Outcome:
        doc = base()
        change(doc)
        return _validate(tmp, json.dumps(doc), honest=False)
    return go


def _text(change: Callable[[str], str | bytes]) -> Callable[[Path], Outcome]:
    def go(tmp: Path) -> Outcome:
        return _validate(tmp, change(json.dumps(_run_base())), honest=False)
    return go


def _honest(base: Callable[[], Doc]) -> Callable[[Path], Outcome]:
    def go(tmp: Path) -> Outcome:
        return _validate(tmp, json.dumps(base()), honest=True)
    return go


def _each_run(change: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def go(doc: Doc) -> None:
        for run in doc["runs"]:
            change(run)
    return go


def _then(*changes: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def go(run: Doc) -> None:
        for change in changes:
            change(run)
    return go


def _halve(run: Doc) -> None:
    _energy_x(run, 0.5)


def _pop(*path: str) -> Callable[[Doc], None]:
    def go(node: Doc) -> None:
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1], None)
    return go


def _set(value: Any, *path: Any) -> Callable[[Doc], None]:
    def go(node: Doc) -> None:
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return go


def _meters(change: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def go(run: Doc) -> None:
        for m in run["power"]["meters"]:
            change(m)
    return go


def _skew_window_energies(run: Doc) -> None:
    e = run["power"]["window_energy_j"]
    e[0], e[-1] = e[0] * 0.4, e[-1] + e[0] * 0.6  # the same sum: only the spread between windows is forged


def _durations_halved(run: Doc) -> None:
    t = run["throughput"]
    t["durations_s"] = [d / 2 for d in t["durations_s"]]
    t["samples"] = [s * 2 for s in t["samples"]]
    for key in ("rate", "median", "p10", "p90", "mean", "min", "max"):
        t[key] *= 2
    run["power"]["window_s"] /= 2
    run["power"]["avg_w"] *= 2
    if run.get("ceiling_fraction") is not None:
        run["ceiling_fraction"] *= 2


def _power_without_energy(run: Doc) -> None:
    run["power"].pop("energy_j")
    run["power"].pop("window_energy_j", None)
    run["power"]["avg_w"] /= 2
    run["efficiency"].pop("per_joule")


def _refused_meter_dodge(run: Doc) -> None:
    """Mark the meter refused (and the run not for sizing), drop its trace and halve the energy."""
    _halve(run)
    p = run["power"]
    p.update(valid_for_sizing=False, invalid_reasons=["refused"], trace=[])
    for m in p["meters"]:
        m.update(valid=False, invalid_reasons=["refused"], trace=[])


def _power_onto_converted(doc: Doc) -> None:
    run = doc["runs"][0]
    units = sum(run["throughput"]["units"])
    run["power"].update(avg_w=10.0, energy_j=17.5, window_s=1.75, measured=True, valid_for_sizing=True,
                        scope="wall", scope_class="wall")
    run["efficiency"]["per_joule"] = units / 17.5


def _phases_shifted(run: Doc) -> None:
    for ph in run["phases"]:
        ph["start"] += 1000.0
        ph["end"] += 1000.0


def _trace_reversed(run: Doc) -> None:
    tr = run["power"]["trace"]
    tr[2][0], tr[5][0] = tr[5][0], tr[2][0]


def _nested(depth: int) -> Callable[[str], str]:
    return lambda text: text[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"


def _duplicate_energy(text: str) -> str:
    doc = json.loads(text)
    energy = doc["runs"][0]["power"]["energy_j"]
    honest = f'"energy_j": {json.dumps(energy)}'
    return text.replace(honest, f'{honest}, "energy_j": {json.dumps(energy / 2)}', 1)


def _replace_first(key: str, value: str) -> Callable[[str], str]:
    def go(text: str) -> str:
        doc = json.loads(text)
        old = json.dumps(doc["runs"][0]["throughput"][key] if key in doc["runs"][0]["throughput"]
                         else doc["runs"][0]["power"][key])
        return text.replace(f'"{key}": {old}', f'"{key}": {value}', 1)
    return go


def _object_bomb(text: str) -> str:
    return text[:-1] + ', "x": [' + ",".join(["{}"] * 2_100_000) + "]}"


CASES: list[Case] = [
    Case(SOURCE, "honest run file", _honest(_run_base)),
    Case(SOURCE, "honest converted pytest-benchmark file, no windows and no power", _honest(_converted_base)),
    Case(SOURCE, "honest miner file", _honest(_miner_base)),
    Case(SOURCE, "phases removed, energy halved in every field", _forged(_each_run(_then(_pop("phases"), _halve)))),
    Case(SOURCE, "phases emptied, energy halved in every field", _forged(_each_run(_then(_set([], "phases"), _halve)))),
    Case(SOURCE, "windows removed (idle, warm-up, tail kept), energy halved",
         _forged(_each_run(_then(_windows_only_removed, _halve)))),
    Case(SOURCE, "phases kept, energy halved in every field", _forged(_each_run(_halve))),
    Case(SOURCE, "meters removed, energy halved", _forged(_each_run(_then(_set([], "power", "meters"), _halve)))),
    Case(SOURCE, "run trace removed, energy halved", _forged(_each_run(_then(_pop("power", "trace"), _halve)))),
    Case(SOURCE, "meter traces removed, energy halved",
         _forged(_each_run(_then(_meters(_set([], "trace")), _halve)))),
    Case(SOURCE, "window energies removed, energy halved",
         _forged(_each_run(_then(_pop("power", "window_energy_j"), _halve)))),
    Case(SOURCE, "window energies skewed, same sum", _forged(_each_run(_skew_window_energies))),
    Case(SOURCE, "meter refused, run not for sizing, traces dropped, energy halved",
         _forged(_each_run(_refused_meter_dodge))),
    Case(SOURCE, "energy removed, average halved", _forged(_each_run(_power_without_energy))),
    Case(SOURCE, "meter readings and duration removed, meter average halved",
         _forged(_each_run(_meters(_then(_pop("readings"), _pop("duration_s"),
                                         lambda m: m.update(avg_w=m["avg_w"] / 2)))))),
    Case(SOURCE, "raw samples removed", _forged(_each_run(_then(_pop("throughput", "samples"),
                                                                 _pop("throughput", "units"),
                                                                 _pop("throughput", "durations_s"))))),
    Case(SOURCE, "durations halved consistently, phases kept", _forged(_each_run(_durations_halved))),
    Case(SOURCE, "phases moved off the trace", _forged(_each_run(_phases_shifted))),
    Case(SOURCE, "trace time going back", _forged(_each_run(_trace_reversed))),
    Case(SOURCE, "interrupted, energy halved", _forged(_each_run(_then(_set("interrupted", "status"), _halve)))),
    Case(SOURCE, "power figures added to a run without windows", _forged(_power_onto_converted, _converted_base)),
    Case(SOURCE, "miner: phases removed, energy halved", _forged(_each_run(_then(_pop("phases"), _halve)), _miner_base)),
    Case(SOURCE, "miner: verified with its pool shares removed", _forged(_each_run(_pop("metrics", "shares")),
                                                                          _miner_base)),
    Case(SOURCE, "miner: negative hardware errors", _forged(_each_run(_set(-5, "metrics", "hw_errors")), _miner_base)),
    Case(SOURCE, "miner: negative chips expected", _forged(_each_run(_set(-342, "hardware", "details",
                                                                            "chips_expected")), _miner_base)),
    Case(SOURCE, "negative shares in metrics", _forged(_each_run(_set({"shares": -7}, "metrics")))),
    Case(SOURCE, "negative output tokens in metrics", _forged(_each_run(_set({"total_output_tokens": -640},
                                                                              "metrics")))),
    Case(SOURCE, "negative batch in params", _forged(_each_run(_set({"batch": -4}, "params")))),
    Case(SOURCE, "negative units in a window", _forged(_each_run(lambda r: r["throughput"]["units"].__setitem__(
        0, -r["throughput"]["units"][0])))),
    Case(SOURCE, "NaN energy", _text(_replace_first("energy_j", "NaN"))),
    Case(SOURCE, "Infinity rate", _text(_replace_first("rate", "Infinity"))),
    Case(SOURCE, "1e999 energy", _text(_replace_first("energy_j", "1e999"))),
    Case(SOURCE, "energy_j twice, the second halved", _text(_duplicate_energy)),
    Case(SOURCE, "source twice: declared, then measured",
         _text(lambda t: t.replace('"source": "measured"', '"source": "declared", "source": "measured"', 1))),
    Case(SOURCE, "nested 100,000 deep", _text(_nested(100_000))),
    Case(SOURCE, "2.1 million empty objects", _text(_object_bomb)),
    Case(SOURCE, "truncated mid-file", _text(lambda t: t[: len(t) // 2])),
    Case(SOURCE, "not UTF-8", _text(lambda t: t.replace('"sha256d"', '"sha\xff256d"', 1).encode("latin-1"))),
]
