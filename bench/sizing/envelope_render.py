"""Output of operating envelopes: one table per envelope (its points, the frontier marked, the point chosen),
the line saying what the chosen setting gains over stock, and the ``--json`` keys that carry them.

Every figure is :func:`bench.sizing.model.size`'s (through :mod:`bench.sizing.frontier`); declared
envelopes (a vendor's curve) are titled DECLARED, never mixed with measured ones.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from bench import units
from bench.record import Document
from bench.sizing.frontier import Choice, Envelope, Point, cost_text, size_all
from bench.sizing.model import Allocation, Sized
from bench.sizing.render import as_json, count, efficiency_text, notes, power_text, span
from bench.sizing.sources import candidates
from bench.tables import MAX_ROWS, cut, efficiency_header, more_row


def _read_back(p: Point) -> str:
    rb = p.setting.read_back
    if rb is None:
        return "declared" if p.candidate.declared else "-"
    return rb if isinstance(rb, str) else f"{rb:g} {p.setting.unit}"


def title(env: Envelope) -> str:
    """``Operating envelope (measured): ...`` or ``DECLARED operating envelope (vendor curve, not measured): ...``."""
    head = "DECLARED operating envelope (vendor curve, not measured)" if env.declared else \
        "Operating envelope (measured)"
    return f"{head}: {cut(env.title, 160)}"


def envelope_table(env: Envelope, choice: Choice | None = None) -> Table:
    """One row per point, lowest power first: the setting asked for and read back, power, throughput and
    efficiency per machine with their bounds, what the allocation buys at it, and the frontier and chosen marks."""
    alloc = env.alloc
    caption = f"{alloc.mw:g} MW at PUE {alloc.pue:g}"
    if choice is not None:
        caption = f"{choice.sized.mw:g} MW at PUE {choice.sized.pue:g}" + (
            f", at most {choice.max_machines:,} machines" if choice.max_machines is not None else "")
    table = Table(title=title(env), title_justify="left",
                  caption=f"figures (low-high); machines and throughput for {caption}; "
                          "* on the Pareto frontier (no other point draws less power and does more work)",
                  caption_justify="left")
    energy = efficiency_header([env.unit])
    cols = ["setting", *([] if env.declared else ["read back"]), "power per machine", "throughput per machine",
            energy, "machines", "throughput", "frontier"]
    if choice is not None:
        cols.append("chosen")
        if choice.by == "cost":
            cols.append("cost per unit")
    for col in cols:
        table.add_column(col, justify="left" if col in ("setting", "read back", "power per machine") else "right",
                         no_wrap=col in (energy,))
    sized = {id(p): s for p, s, _ in choice.options} if choice is not None else {}
    costs = {id(p): c for p, _, c in choice.options} if choice is not None else {}
    rate = functools.partial(units.rate, unit=env.unit)
    for p in env.points[:MAX_ROWS]:
        s: Sized = sized.get(id(p), p.sized)
        row = [cut(p.label), *([] if env.declared else [cut(_read_back(p))]), power_text(s),
               span(rate(p.throughput), p.throughput_low, p.throughput_high, rate),
               efficiency_text(s), span(count(s.machines), s.machines_low, s.machines_high, count),
               span(rate(s.throughput), s.throughput_low, s.throughput_high, rate),
               "*" if p.on_frontier else ""]
        if choice is not None:
            row.append("[bold]chosen[/bold]" if p is choice.point else "")
            if choice.by == "cost":
                c = costs.get(id(p))
                row.append(span(cost_text(c.per_unit, env.unit), c.per_unit_low, c.per_unit_high,
                                lambda v: cost_text(v, env.unit)) if c is not None else "-")
        table.add_row(*row)
    more_row(table, min(len(env.points), MAX_ROWS), len(env.points))
    return table


def choice_lines(choice: Choice) -> list[str]:
    """The chosen setting and its gain over stock; with costs, what the cost rests on."""
    env = choice.envelope
    what = "DECLARED " if env.declared else ""
    lines = [f"[bold]{what}chosen for {choice.sized.mw:g} MW[/bold] ({cut(env.title, 160)}): "
             f"{escape(choice.gain_text())}"]
    if choice.by == "cost" and choice.cost is not None:
        lines.append(escape(f"chosen by the lowest cost per unit of throughput: {cost_text(choice.cost.per_unit, env.unit)}"
                            " = (machines x machine cost / years + facility MWh per year x energy price) / throughput; "
                            "ILLUSTRATIVE: the costs are the ones given, machines only, no interest or maintenance"))
    return lines


def skipped_lines(env: Envelope) -> list[str]:
    """One line per point of the envelope that could not be sized."""
    return [escape(f"not sized: {env.file} run {k.run} at {cut(str(s.requested), 40)} {s.unit}: {k.reason[:300]}")
            for s, k in env.skipped]


def print_envelopes(console: Any, envs: Sequence[Envelope], choices: Sequence[Choice | None]) -> None:
    """Measured envelopes first, then declared ones, each table followed by its choice."""
    pairs = sorted(zip(envs, choices), key=lambda ec: ec[0].declared)
    for env, choice in pairs:
        console.print(envelope_table(env, choice))
        if choice is not None:
            for line in choice_lines(choice):
                console.print(line)
        for line in [*notes([p.sized for p in env.points], []), *skipped_lines(env)]:
            console.print(line)


def annotate(rows: list[dict[str, Any]], envs: Sequence[Envelope], choices: Sequence[Choice | None]) -> list[dict[str, Any]]:
    """``--json`` rows (one per run, :func:`bench.sizing.render.as_json`) with, for each point of an envelope,
    its ``setting``, ``envelope`` (index), ``on_frontier`` and ``chosen``; the chosen row also carries ``choice``
    (how it was chosen, its sizing under the cap, its gain over stock). Rows of runs without a setting are
    left as they are."""
    where: dict[tuple[str, int], tuple[int, Point]] = {}
    for i, env in enumerate(envs):
        for p in env.points:
            where[(p.sized.file, p.sized.run)] = (i, p)
    unsized = {(k.file, k.run): s for env in envs for s, k in env.skipped}
    for row in rows:
        key = (row.get("file", ""), row.get("run", -1))
        found = where.get(key)
        if found is None:
            if key in unsized:
                row["setting"] = unsized[key].to_json()
            continue
        i, p = found
        choice = choices[i]
        row.update({"setting": p.setting.to_json(), "envelope": i, "on_frontier": p.on_frontier,
                    "chosen": choice is not None and choice.point is p})
        if choice is not None and choice.point is p:
            row["choice"] = choice.to_dict()
    return rows


def envelopes_json(envs: Sequence[Envelope], choices: Sequence[Choice | None]) -> list[dict[str, Any]]:
    """Each envelope's points and frontier, with its choice where one was made."""
    return [{**env.to_dict(), "choice": c.to_dict() if c is not None else None} for env, c in zip(envs, choices)]


def show_json(path: str, doc: Document, mw: float = 1.0, pue: float = 1.0) -> dict[str, Any]:
    """``show --json`` for one file: what ``mw`` buys of each run (``size --json``'s rows, settings marked) and
    each operating envelope with its frontier and its choice for ``mw``."""
    sweep = size_all(candidates(doc, path), Allocation(mw, pue))
    return {"file": path, "id": doc.id, "source": doc.source, "mw": mw, "pue": pue,
            "runs": annotate(as_json(sweep.results), sweep.envelopes, sweep.choices),
            "envelopes": envelopes_json(sweep.envelopes, sweep.choices)}
