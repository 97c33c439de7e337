"""`sitebench list`: every workload and every power meter, with why a meter is unavailable."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.table import Table

from bench import console
from bench.builtin import available
from bench.commands import help_of
from bench.power.discovery import Policy, open_meters
from bench.power.spec import grammar_rows
from bench.registry import all_workload_classes


def register(sub: Any) -> None:
    p = sub.add_parser("list", help=help_of("list"),
                       description="List every registered workload (name, unit, devices, presets) and every "
                       "power meter back-end: the meters it opened here, why the others are unavailable, and the "
                       "--meter grammar of each (NAME[:TARGET][,key=value]...).")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=main)


def _options(row: dict[str, Any]) -> str:
    """A back-end's options, one per line: ``form (default D, secret): help``."""
    lines = []
    for o in row["options"]:
        default = f"{o['default']:g}" if isinstance(o["default"], float) else o["default"]
        notes = ([f"default {default}"] if o["default"] not in (None, "", False) else []) + (
            ["secret: never printed"] if o["secret"] else []) + (["repeatable"] if o["repeat"] else [])
        lines.append(f"{o['form']}{f' ({chr(44).join(notes)})' if notes else ''}: {o['help']}")
    return "\n".join(lines) or "-"


def main(args: argparse.Namespace) -> int:
    workloads: list[dict[str, Any]] = [
        {"name": c.name, "unit": c.unit, "devices": list(c.devices), "presets": list(c.presets),
         "default": bool(getattr(c, "default_suite", False)), "description": c.description,
         "module": c.__module__}
        for c in all_workload_classes()
    ]
    opened = open_meters(None, Policy.here(keep_modelled=True))
    meters, unavailable = opened.meters, opened.unavailable
    measured_here = any(m.measured for m in meters)
    provenance = {"name", "kind", "scope", "method", "measured", "accuracy", "accuracy_w", "accuracy_note",
                  "update_period_s"}
    meter_rows: list[dict[str, Any]] = [{**m.figure().model_dump(mode="json", include=provenance), "available": True,
                   "reason": None if m.measured or not measured_here else "not used by default: a measured meter works"}
                  for m in meters]
    meter_rows += [{"name": u.name, "kind": u.name, "available": False, "reason": u.reason} for u in unavailable]
    opened.close()
    grammar = grammar_rows()
    if args.json:
        print(json.dumps({"workloads": workloads, "meters": meter_rows, "grammar": grammar, "builtin": available()},
                         indent=1))
        return 0
    wt = Table(title="Workloads", title_justify="left")
    for col in ("name", "unit", "devices", "presets", "in suite", "description"):
        wt.add_column(col)
    for w in workloads:
        wt.add_row(w["name"], w["unit"], ", ".join(w["devices"]), ", ".join(w["presets"]),
                   "yes" if w["default"] else "", w["description"])
    mt = Table(title="Power meters", title_justify="left")
    for col in ("meter", "scope", "method", "accuracy", "status"):
        mt.add_column(col)
    for m in meter_rows:
        if m["available"]:
            status = "[green]available[/green]" + ("" if m["measured"] else " [yellow](modelled)[/yellow]")
            if m["reason"]:
                status += f": {m['reason']}"
            mt.add_row(m["name"], m["scope"], m["method"], m["accuracy_note"], status)
        else:
            mt.add_row(m["name"], "", "", "", f"[red]unavailable[/red]: {m['reason']}")
    gt = Table(title="--meter NAME[:TARGET][,key=value]...", title_justify="left")
    for col in ("meter", "form", "options", "environment"):
        gt.add_column(col)
    for row in grammar:
        gt.add_row(row["name"], row["short_form"], _options(row), ", ".join(row["environment"]) or "-")
    console.out().print(wt)
    console.out().print(mt)
    console.out().print(gt)
    console.out().print("Files shipped with sitebench (use the name where a result file or plan goes):\n  "
                        + "\n  ".join(available()))
    return 0
