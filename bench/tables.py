"""Table helpers every command shares: cells cut and made printable, a row for what was left out, column names for figures."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from rich.markup import escape
from rich.table import Table

#: Longest label shown in a cell (names from a file are cut, never laid out whole).
MAX_CELL = 60
#: Rows a terminal table shows; the rest are counted in a last row (--json and the report hold them all).
MAX_ROWS = 500


def more_row(table: Table, shown: int, total: int) -> None:
    """A last row saying how many rows were left out, when any were."""
    if total > shown:
        table.add_row(f"[dim]… {total - shown:,} more (see --json or sitebench report)[/dim]",
                      *[""] * (len(table.columns) - 1))


def printable(text: object) -> str:
    """``text`` with what a terminal would obey instead of show (escape sequences, bidi overrides, other
    control and format characters, lone surrogates) written as escapes."""
    return "".join(c if c.isprintable() and unicodedata.category(c) not in ("Cf", "Cs") else
                   c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in str(text))


def cut(text: object, limit: int = MAX_CELL) -> str:
    """``text`` made printable, escaped for rich markup and cut to ``limit`` characters."""
    s = printable(" ".join(str(text).split()))
    return escape(s if len(s) <= limit else s[: limit - 1] + "…")


#: What :func:`bench.units.efficiency` prints per unit of work: energy per unit (lower is better) for hashing
#: and tokens, as miners and serving people quote it; units per joule (higher is better) for any other unit.
ENERGY_PER = {"hash": "J/TH", "token": "J/token"}


def efficiency_header(unit_names: Iterable[str]) -> str:
    """The header of a column of :func:`bench.units.efficiency` cells, named by what the figures are:
    ``"J/TH"`` for hashing, ``"J/token"`` for tokens, ``"efficiency (widget/J)"`` for another unit,
    joined with "or" when the column mixes units."""
    seen = set(unit_names) or set(ENERGY_PER)
    known = [ENERGY_PER[u] for u in ENERGY_PER if u in seen]
    return " or ".join([*known, *(f"efficiency ({cut(u, 40)}/J)" for u in sorted(seen - set(ENERGY_PER)))])


#: What each kind of device is called in tables and verdicts.
KIND_NAMES = {"cpu": "CPU", "cuda": "GPU", "asic": "ASIC miner", "endpoint": "endpoint", "declared": "declared hardware"}


def kind_name(device: str, hardware_kind: str | None = None) -> str:
    """What a run measured, by kind: ``"CPU"``, ``"GPU"``, ``"ASIC miner"``, ``"endpoint"`` (a served model
    measured over HTTP), ``"declared hardware"`` (a vendor's figures), else the device's own prefix."""
    if hardware_kind in KIND_NAMES:
        return KIND_NAMES[hardware_kind]
    prefix = device.partition(":")[0]
    return KIND_NAMES.get(prefix, printable(prefix))
