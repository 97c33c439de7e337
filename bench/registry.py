"""Workload discovery through the ``sitebench.workloads`` entry-point group.

Built-in workloads register through the same group a third party uses, in
sitebench's own ``pyproject.toml``.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from bench.errors import UsageError
from bench.workload import Workload

GROUP = "sitebench.workloads"


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def workload_names() -> list[str]:
    """Names of every registered workload, sorted."""
    return sorted(_entry_points())


def load_workload_class(name: str) -> type[Workload]:
    """The class registered under ``name``.

    Raises:
        UsageError: when no workload of that name is registered, or the entry
            point does not name a Workload subclass.
    """
    eps = _entry_points()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise UsageError(f"unknown workload {name!r} (known: {known})")
    cls = eps[name].load()
    if not (isinstance(cls, type) and issubclass(cls, Workload)):
        raise UsageError(f"entry point {name!r} ({eps[name].value}) is not a sitebench Workload")
    return cls


def create_workload(name: str) -> Workload:
    """A fresh instance of the workload registered under ``name``."""
    return load_workload_class(name)()


def all_workload_classes() -> list[type[Workload]]:
    """Every registered workload class, sorted by name."""
    return [load_workload_class(n) for n in workload_names()]
