"""Rebuilding a result file from the journal of a run that was killed (SIGKILL, a crash, a power cut).

Completed runs come back exactly as the journal holds them. The run that was
in progress comes back ``interrupted``, with the windows that completed:
their units and durations from the journal's ``window`` lines, their power
from its readings and markers, through the same power layer a live run uses.
A last line cut short by the crash is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench.errors import InvalidResultFile
from bench.measure.journal import SUFFIX
from bench.measure.replay import ReplayMeter
from bench.measure.runrecord import RunHead, measured_run
from bench.power.meter import Reading
from bench.power.sampler import Gap, Marker, Sampler
from bench.power.window.block import power_block
from bench.record import Document, Hardware, MeterFigure, Phase, Run
from bench.record.io import first_error

#: A front end's own journal format: ``detect(lines)`` says a journal is one of its own,
#: ``rebuild(journal)`` gives its runs. Front ends register theirs (:func:`register`);
#: a journal none claims is the runner's (``run``, ``serve``): runs as recorded, the last rebuilt.
Detect = Callable[[list[dict[str, Any]]], bool]
Rebuild = Callable[["Journaled"], list[Run]]
RECOVERERS: list[tuple[Detect, Rebuild]] = []


def register(detect: Detect, rebuild: Rebuild) -> None:
    """Make ``recover`` rebuild the journals ``detect`` claims with ``rebuild``."""
    RECOVERERS.append((detect, rebuild))


@dataclass
class Journaled:
    """What a journal holds, line by line."""

    document: Document
    meters: list[MeterFigure]
    runs: list[Run] = field(default_factory=list)
    #: The run that had started and not ended when the journal stopped (its tag and head).
    open_run: tuple[str, RunHead] | None = None
    windows: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0


def read_journal(path: Path) -> Journaled:
    """Parse a journal; a line cut short (the last, after a crash) is counted in ``skipped``.

    Raises:
        InvalidResultFile: no header, or a header or run line that is not a valid record.
    """
    lines, skipped = [], 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            try:
                obj = json.loads(raw)
            except ValueError:
                skipped += 1
                continue
            if isinstance(obj, dict):
                lines.append(obj)
    if not lines or lines[0].get("type") != "header":
        raise InvalidResultFile(str(path), "line 1", "not a sitebench journal (no header line)")
    try:
        head = lines[0]
        out = Journaled(Document.model_validate(head["document"]),
                        [MeterFigure.model_validate(m) for m in head.get("meters", [])], lines=lines, skipped=skipped)
        for line in lines[1:]:
            kind = line.get("type")
            if kind == "run":  # ends the run in progress (a point refused before running has no start)
                out.runs.append(Run.model_validate(line["run"]))
                out.open_run = None
            elif kind == "run-start":
                hw = line["head"].get("hardware")
                out.open_run = (str(line["tag"]), RunHead(**{**line["head"],
                                                             "hardware": Hardware.model_validate(hw) if hw else None}))
            elif kind == "window":
                out.windows.setdefault(str(line["tag"]), []).append((float(line["units"]), float(line["duration_s"])))
    except ValidationError as exc:
        raise InvalidResultFile(str(path), "journal", first_error(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidResultFile(str(path), "journal", f"malformed line ({exc})"[:300]) from None
    return out


def _sampler(j: Journaled) -> Sampler:
    sampler = Sampler([ReplayMeter(f) for f in j.meters])
    for line in j.lines:
        kind = line.get("type")
        log = sampler.logs.get(str(line.get("meter")))
        if kind == "reading" and log is not None:
            log.readings.append(Reading(t=float(line["t"]), energy_j=line.get("energy_j"), power_w=line.get("power_w"),
                                        extra=line.get("extra") or {}))
        elif kind == "gap" and log is not None:
            log.gaps.append(Gap(float(line["t"]), str(line.get("reason", "")), bool(line.get("discontinuity"))))
        elif kind == "marker":
            index = {name: len(lg.readings) - 1 for name, lg in sampler.logs.items()}
            sampler.markers.append(Marker(str(line["phase"]), float(line["t"]), index))
    return sampler


def _phases(sampler: Sampler, tag: str, t_ref: float) -> list[Phase]:
    times = {m.phase.removeprefix(f"{tag}/"): m.t for m in sampler.markers if m.phase.startswith(f"{tag}/")}
    out = []
    for name in ("idle", "warmup"):
        if f"{name}/start" in times and f"{name}/end" in times:
            out.append(Phase(name=name, start=round(times[f"{name}/start"] - t_ref, 4),
                             end=round(times[f"{name}/end"] - t_ref, 4)))
    i = 0
    while f"window-{i}" in times and f"window-{i + 1}" in times:
        out.append(Phase(name=f"window-{i}", start=round(times[f"window-{i}"] - t_ref, 4),
                         end=round(times[f"window-{i + 1}"] - t_ref, 4)))
        i += 1
    return out


def _in_progress(j: Journaled, sampler: Sampler) -> Run | None:
    if j.open_run is None:
        return None
    tag, head = j.open_run
    wins = j.windows.get(tag, [])
    reason = "killed before it ended (recovered from its journal)"
    try:
        t_ref = sampler.marker(f"{tag}/run/start").t
    except KeyError:
        wins = []
    if not wins:
        return head.failed("interrupted", reason)
    units, durations = [u for u, _ in wins], [d for _, d in wins]
    markers = [(f"{tag}/window-{i}", f"{tag}/window-{i + 1}") for i in range(len(wins))]
    phases = _phases(sampler, tag, t_ref)
    power = power_block(sampler, t_ref, markers, (f"{tag}/idle/start", f"{tag}/idle/end"),
                        (f"{tag}/run/start", sampler.markers[-1].phase), device=head.device)
    return measured_run(head, units, durations, power=power, phases=phases, status="interrupted", error=reason,
                        verified=True)


def recover(path: str | Path) -> tuple[Document, int]:
    """The result document a journal holds, and how many cut-short lines were skipped."""
    j = read_journal(Path(path))
    for detect, rebuild in RECOVERERS:
        if detect(j.lines):  # a front end's own journal (miners run: every miner rebuilt from its polls)
            return j.document.model_copy(update={"runs": rebuild(j)}), j.skipped
    runs = list(j.runs)
    last = _in_progress(j, _sampler(j))
    if last is not None:
        runs.append(last)
    return j.document.model_copy(update={"runs": runs}), j.skipped


def default_out(journal: Path) -> Path:
    """The result file the journal was for (``X.json.journal.jsonl`` -> ``X.json``), or ``X.recovered.json``
    beside it when that file exists already."""
    name = journal.name.removesuffix(SUFFIX) if journal.name.endswith(SUFFIX) else journal.name + ".json"
    target = journal.with_name(name)
    n = 1
    while target.exists():  # an existing file is never overwritten
        target = journal.with_name(f"{name.removesuffix('.json')}.recovered{'' if n == 1 else f'-{n}'}.json")
        n += 1
    return target
