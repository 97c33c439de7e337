"""Terminal output: rich consoles for stdout (tables) and stderr (progress, warnings)."""

from __future__ import annotations

from functools import lru_cache

from rich.console import Console


@lru_cache(maxsize=1)
def out() -> Console:
    """Console on stdout, for tables people read."""
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = 140  # files and pipes get whole tables, not 80-column wraps
    return console


@lru_cache(maxsize=1)
def err() -> Console:
    """Console on stderr, for progress bars and warnings (a long line is never broken: paths stay whole)."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = 140
    return console
