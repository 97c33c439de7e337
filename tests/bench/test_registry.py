"""The workload registry: built-ins and third parties through the same entry-point group."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import registry
from bench.errors import UsageError
from bench.workload import Workload


def test_builtins_register_through_the_entry_point_group() -> None:
    names = registry.workload_names()
    assert {"sha256d", "llm-decode"} <= set(names)
    for cls in registry.all_workload_classes():
        assert issubclass(cls, Workload)
        assert cls.unit and cls.devices and {"ci", "full"} <= set(cls.presets)


def test_third_party_workload_is_discovered(thirdparty_dist: Path) -> None:
    assert "thirdparty-count" in registry.workload_names()
    wl = registry.create_workload("thirdparty-count")
    assert wl.unit == "op"
    wl.setup("cpu", wl.params_for("ci"))
    wl.verify()
    assert wl.step() == 1000


def test_unknown_workload_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown workload 'nope'"):
        registry.create_workload("nope")


def test_params_override_and_coercion(thirdparty_dist: Path) -> None:
    wl = registry.create_workload("thirdparty-count")
    params = wl.params_for("ci", {"chunk": "25", "broken": "true"})
    assert params == {"chunk": 25, "broken": True}
    with pytest.raises(UsageError, match="no parameter 'size'"):
        wl.params_for("ci", {"size": "1"})
    with pytest.raises(UsageError, match="no preset 'huge'"):
        wl.params_for("huge")
