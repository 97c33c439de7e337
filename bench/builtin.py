"""Files shipped inside the package, named ``builtin:NAME`` on the command line.

So ``pip install sitebench`` is enough to plan a site: the declared ASIC
miners and the 8 x H100 MLPerf node (``builtin:declared/bitmain-antminer-s21``)
and the example 2,000 MW plan (``builtin:plans/phase1-2000mw``) need no checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.errors import UsageError

PREFIX = "builtin:"
DATA = Path(__file__).resolve().parent / "data"
KINDS = {"declared": ".json", "plans": ".toml"}


def available() -> list[str]:
    """Every shipped file as ``builtin:KIND/NAME``."""
    return [f"{PREFIX}{kind}/{p.stem}" for kind, ext in KINDS.items() for p in sorted((DATA / kind).glob(f"*{ext}"))]


def resolve(name: str | os.PathLike[str]) -> Path:
    """``builtin:KIND/NAME`` as the shipped file's path; any other name as the path it is.

    Raises:
        UsageError: a ``builtin:`` name that is not shipped (the message lists what is).
    """
    text = str(name)
    if not text.startswith(PREFIX):
        return Path(name)
    kind, _, stem = text[len(PREFIX):].partition("/")
    ext = KINDS.get(kind)
    path = DATA / kind / (stem if ext is None or stem.endswith(ext) else stem + ext)
    if ext is None or not stem or "/" in stem or not path.is_file():
        raise UsageError(f"{text}: not a file shipped with sitebench (shipped: {', '.join(available())})")
    return path
