"""Another tool's serving benchmark as a ``sitebench.result/2`` file (``sitebench import``).

Each load point (:mod:`bench.serve.record.formats`) becomes a ``serve`` run as ``sitebench serve`` makes
it (:mod:`bench.serve.record.runrecord`): the steady window found after the fact by the same rule
(:func:`bench.serve.measure.steady.edges`), cut into equal slices (there are no live markers to choose
from), output tokens attributed to slices by token event time, and vLLM's own figures in
``metrics`` under vLLM's keys. Power comes only from a log of a wall meter or PDU (``--power-log``,
read by the ``csv`` meter by wall-clock time, its ``offset=`` the logger's clock minus the
benchmark client's): its readings are placed at the slice boundaries on the file's wall-clock
timeline and the power layer computes the block as for a live run. Without a log the run has no
power figure: an import's power is never modelled.

The file crosses the boundary before anything in it is read: at most :data:`DEFAULT_MAX_BYTES`
(``--max-bytes``; the size is checked before reading), strict JSON (UTF-8, no ``NaN``, no key twice
in one object) nested at most :data:`MAX_DEPTH` deep with at most one object or array per
:data:`BYTES_PER_CONTAINER` bytes of the limit (what a parser can hold in memory for it); then
:mod:`bench.serve.record.formats` reads typed, bounded values, token counts against the file's token
events (``--max-tokens-per-event``). Anything outside the bounds refuses the file in one line.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from bench.errors import MeterUnavailable, UsageError
from bench.measure.runrecord import RunHead, flat_metrics, measured_run
from bench.power.discovery import open_spec
from bench.power.meter import Meter
from bench.power.meters.csvlog import CsvLogMeter
from bench.power.sampler import Marker, Sampler
from bench.power.spec import MeterSpec
from bench.power.window.block import power_block
from bench.power.window.energy import MIN_PERIODS
from bench.record import Document, Hardware, Phase, PowerBlock, Run, System, new_document, no_power
from bench.record.io import first_error
from bench.serve.measure.energy import energy_per_token
from bench.serve.measure.slices import equal_bounds
from bench.serve.measure.steady import SteadyWindow, analyse, edges
from bench.serve.protocol.boundary import loads
from bench.serve.protocol.counts import MAX_TOKENS_PER_EVENT
from bench.serve.record import formats
from bench.serve.record.runrecord import UNIT, WORKLOAD

NO_LOG = "no power log given (--power-log): an imported benchmark's power is never modelled"
#: Bytes of a file imported (``--max-bytes``): a vLLM result of 1,000 prompts of 1,000 tokens, ITLs saved, is some 25 MB.
DEFAULT_MAX_BYTES = 64 << 20
#: Nesting of objects and arrays in a file imported (a guidellm report nests about 8 deep).
MAX_DEPTH = 64
#: Bytes of the limit per object or array a file may hold: a parsed empty object takes some 64 bytes of memory.
BYTES_PER_CONTAINER = 32


def open_log(path: str, options: str | None) -> Meter:
    """The ``csv`` meter on ``path`` with ``options`` (``scope=node,offset=S,accuracy=F``), on the wall clock.

    Raises:
        UsageError: the log cannot be read or an option is wrong (one line).
    """
    spec = MeterSpec.build("csv", path, options or "", where="--meter-options")
    try:
        [meter] = open_spec(spec)
    except MeterUnavailable as exc:
        raise UsageError(f"--power-log {path}: {exc}") from None
    assert isinstance(meter, CsvLogMeter)
    meter.wall_minus_monotonic = 0.0  # the import's timeline is the wall clock itself (Unix seconds)
    return meter


def _power(meter: Meter, pt: formats.ImportedPoint, bounds: list[float]) -> PowerBlock:
    """The power block of the slices ``bounds``; the log is read a few of its intervals beyond the run on
    both sides, so the power at the first and last boundary is interpolated between real readings."""
    sampler = Sampler([meter])
    names = [f"slice-{i}" for i in range(len(bounds))]
    pad = 3 * meter.update_period_s
    sampler.markers = [Marker("log/start", pt.started - pad, {}), *(Marker(n, t, {}) for n, t in zip(names, bounds)),
                       Marker("log/end", pt.finished + pad, {})]
    return power_block(sampler, pt.started, list(pairwise(names)), None, ("log/start", "log/end"))


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url).netloc if url and "//" in url else url
    except ValueError:  # not a URL (an unbalanced IPv6 bracket...)
        return None


def _head(pt: formats.ImportedPoint, file: str, base_url: str | None) -> RunHead:
    url = (base_url or pt.base_url or "")[:2000] or None
    host = _host(url)
    details = {"source": f"{pt.tool} result", "file": Path(file).name[:2000], "base_url": url}
    params = {**pt.params, "imported_from": pt.tool}
    return RunHead(workload=WORKLOAD, device=f"endpoint:{host or 'unknown'}"[:200], unit=UNIT,
                   params={k: v for k, v in params.items() if v is not None}, started=_iso(pt.started),
                   hardware=Hardware(kind="endpoint", model=pt.model[:200] or "unknown",
                                     details={k: v for k, v in details.items() if v is not None}))


def _metrics(pt: formats.ImportedPoint, w: SteadyWindow, j_out: float | None, j_all: float | None) -> dict[str, Any]:
    return {**pt.figures, "imported_from": pt.tool, "import_notes": "; ".join(pt.notes),
            "j_per_output_token": j_out, "j_per_token": j_all, "token_source": pt.tool,
            "completed": sum(1 for r in pt.records if r.ok), "failed": sum(1 for r in pt.records if not r.ok),
            "steady_valid": w.valid, "steady_reasons": "; ".join(w.reasons), "steady_rule": w.rule,
            "steady_start_s": None if w.start is None else w.start - pt.started,
            "steady_end_s": None if w.end is None else w.end - pt.started,
            "steady_output_tokens": w.output_tokens, "steady_input_tokens": w.input_tokens, "steady_cv": w.cv,
            "steady_mean_concurrency": w.mean_concurrency, "steady_target_concurrency": w.target_concurrency}


def point_run(pt: formats.ImportedPoint, file: str, meter: Meter | None = None, base_url: str | None = None) -> Run:
    """The run of one imported point (see the module)."""
    head = _head(pt, file, base_url)
    start, end = edges(pt.records, pt.closed_target) if pt.timeline else (pt.started, pt.finished)
    need = MIN_PERIODS * meter.update_period_s if meter is not None else 0.0
    bounds = equal_bounds(start, end) if pt.timeline and start is not None and end is not None and end > start \
        else [pt.started, pt.finished]
    window = analyse(pt.records, start, end, closed_target=pt.closed_target, min_duration_s=need, bounds=bounds)
    if not pt.timeline:
        window.valid = False
        window.reasons.append("no per-request start times: the whole benchmark (ramp and drain included) is the window")
    if not window.output_tokens or start is None or end is None or end <= start:
        run = head.failed("failed", "no steady window: " + "; ".join(window.reasons))
        return run.model_copy(update={"metrics": flat_metrics(_metrics(pt, window, None, None))})
    energy = energy_per_token(_power(meter, pt, window.bounds), window) if meter is not None else None
    block = energy.block if energy is not None else no_power(NO_LOG)

    def phase(name: str, a: float, b: float) -> Phase:
        return Phase(name=name, start=round(a - pt.started, 4), end=round(b - pt.started, 4))

    wb = window.bounds
    phases = [phase("ramp", pt.started, max(pt.started, wb[0])),
              *(phase(f"window-{i}", a, b) for i, (a, b) in enumerate(pairwise(wb))),
              phase("drain", wb[-1], max(wb[-1], pt.finished))]
    uncounted = sum(1 for r in pt.records if r.ok and r.output_tokens is None)
    refused = ([f"{uncounted} successful request(s) without a token count"] if uncounted else []) + pt.unverified
    figures = _metrics(pt, window, energy.j_per_output_token if energy else None, energy.j_per_token if energy else None)
    if refused:
        figures["verification"] = "; ".join(refused)
    return measured_run(head, window.slice_tokens, [b - a for a, b in pairwise(wb)], power=block, phases=phases,
                        verified=not refused, metrics=figures)


def read_file(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """The parsed JSON of ``path`` across the file boundary (see the module).

    Raises:
        UsageError: unreadable, too large, not strict JSON, too deep or too many objects (one line).
    """
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise UsageError(f"{path}: {size} bytes, more than the {max_bytes} an import reads (--max-bytes)")
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > max_bytes:  # it grew while being read
        raise UsageError(f"{path}: more than the {max_bytes} bytes an import reads (--max-bytes)")
    try:
        return loads(data, depth=MAX_DEPTH, max_containers=max(1000, max_bytes // BYTES_PER_CONTAINER))
    except ValueError as exc:
        raise UsageError(f"{path}: not JSON within an import's bounds: {exc}"[:400]) from None


def import_file(path: str, *, meter: Meter | None = None, start: float | None = None,
                base_url: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                per_event: int = MAX_TOKENS_PER_EVENT) -> tuple[Document, list[str]]:
    """The document holding every point of the result at ``path``, and the notes a reader must see.

    Raises:
        UsageError: not a file of a known format, or one that does not hold what the format says (one line).
    """
    doc = read_file(path, max_bytes)
    tool = formats.detect(doc, path)
    budget = formats.Budget(path)
    points = (formats.vllm(doc, path, start, per_event=per_event, budget=budget) if tool == "vllm"
              else formats.guidellm(doc, path, per_event=per_event, budget=budget))
    system = System(note=f"imported from the {tool} result {Path(path).name}: the client host is not in that file"[:2000])
    notes = list(dict.fromkeys(n for pt in points for n in pt.notes))
    try:
        return new_document(system, [point_run(pt, path, meter, base_url) for pt in points]), notes
    except ValidationError as exc:  # the record's own bounds: the last line of defence
        raise UsageError(f"{path}: the result record refuses what the file holds: {first_error(exc)}"[:400]) from None
