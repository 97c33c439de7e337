"""The docs site builds with `mkdocs build --strict`, and its reference pages are generated from the code."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "docs" / "_hooks" / "gen_reference.py"

pytest.importorskip("mkdocs_gen_files", reason="the docs tools are in the test extra: pip install -e '.[test]'")


@pytest.fixture(scope="module")
def hook() -> dict[str, Any]:
    """The generator's functions (importing it generates nothing)."""
    return runpy.run_path(str(HOOK), run_name="docs_hook")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return out


def test_site_builds_strict_with_every_page(site: Path) -> None:
    for page in ("index.html", "install/index.html", "guides/measure/index.html", "concepts/efficiency/index.html",
                 "measurements/index.html", "reference/cli/index.html", "reference/meters/index.html",
                 "reference/result-schema/index.html", "reference/api/index.html"):
        assert (site / page).is_file(), page


def test_cli_reference_is_every_subcommands_help(site: Path, hook: dict[str, Any]) -> None:
    html = (site / "reference/cli/index.html").read_text()
    names = [name for name, _, _ in hook["subcommands"](hook["build_parser"](), "sitebench")]
    assert "sitebench run" in names and "sitebench miners scan" in names
    for name in names:
        assert f'id="{name.replace(" ", "-")}"' in html, name
    assert "--all-devices" in html and "--base-url" in html


def test_meter_reference_names_every_declared_meter(site: Path, hook: dict[str, Any]) -> None:
    specs = hook["meter_specs"]()
    by_name = {s["name"]: s for s in specs}
    assert {"rapl", "nvml", "model", "ipmi", "redfish", "csv", "prometheus", "snmp"} <= set(by_name)
    assert by_name["rapl"]["argument"] == "none" and by_name["snmp"]["argument"] == "required"
    assert "insecure" in [o["name"] for o in by_name["redfish"]["options"]]
    assert "IPMI_PASSWORD" in by_name["ipmi"]["environment"]
    assert by_name["nvml"]["per_device"]
    html = (site / "reference/meters/index.html").read_text()
    for name in by_name:
        assert f'id="{name}"' in html, name


def test_schema_reference_renders_every_definition(site: Path, hook: dict[str, Any]) -> None:
    import json

    schema = json.loads(hook["schema_file"]().read_text())
    html = (site / "reference/result-schema/index.html").read_text()
    for name in schema["$defs"]:
        assert f'id="{name.lower()}"' in html, name
    assert (site / "reference/schema" / hook["schema_file"]().name).is_file()


def test_api_reference_walks_the_packages(site: Path, hook: dict[str, Any]) -> None:
    modules = [name for _, name, _ in hook["api_pages"]()]
    assert "bench.cli" in modules and "workloads.hashing.sha256d" in modules
    for page, name, _ in hook["api_pages"]():
        html = site / "reference/api" / page.replace(".md", "").replace("/index", "") / "index.html"
        assert html.is_file(), name
