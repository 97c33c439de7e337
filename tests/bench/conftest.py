"""Shared fixtures of the bench tests: a real CPU result file recorded by sitebench run.

``data/result_cpu.json``: ``sitebench run -w llm-decode -w sha256d --idle 0.3 --warmup 0.3``
on a 2-core VM (modelled power), with the power traces cut to the measured windows
+-0.15 s so the fuzz tests stay fast.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench.validation import Finding, validate_text

DATA = Path(__file__).parent / "data" / "result_cpu.json"
_DOC = json.loads(DATA.read_text())


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of a valid measured result file's JSON object."""
    return copy.deepcopy(_DOC)


def check(obj: dict[str, Any]) -> list[Finding]:
    """Every finding ``sitebench validate`` reports for a file holding ``obj``."""
    return validate_text(json.dumps(obj), "r.json").findings
