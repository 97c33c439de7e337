"""The README's two set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up in two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_has_two_setup_commands() -> None:
    run, test = setup_commands()
    assert run.endswith("sitebench run")
    assert "pytest" in test


def test_ci_calls_the_readme_test_command_verbatim() -> None:
    _, test = setup_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci.splitlines()
