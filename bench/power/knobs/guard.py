"""The one place a knob is changed and the one place it is put back.

:class:`KnobGuard` reads each knob's original value and journals it (a ``knob`` line, synced)
before its first change, journals every change (``knob_set``) and every restoration
(``knob_restored``), and restores every knob it changed when it exits, whatever ended it (the
last point, Ctrl-C, SIGTERM or SIGHUP turned into an exception by
:func:`bench.measure.stopsignals.stop_signals`, any error). After a SIGKILL the journal holds
``knob`` lines without their ``knob_restored``: ``sitebench recover`` restores those
(:func:`restore_journaled`).

Journal lines (JSON objects, written through the ``write`` callable given)::

    {"type": "knob", "label": "gpu.power_limit on gpu:0", "spec": {...}, "unit": "W", "original": 700.0}
    {"type": "knob_set", "label": ..., "value": 400.0, "read_back": 400.0}
    {"type": "knob_restored", "label": ..., "value": 700.0}
    {"type": "knob_restore_failed", "label": ..., "value": 700.0, "reason": "..."}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from bench.power.knobs.knob import Knob, KnobFailed, KnobRefused, Value, reopen

Write = Callable[[dict[str, Any]], None]


def check_before_change(knobs: Sequence[Knob], values: Iterable[tuple[Knob, Value]]) -> None:
    """Refuse the whole sweep before anything changes: a missing permission or a value out of range.

    Raises:
        KnobRefused: one line naming the knob and what is wrong.
    """
    for knob in knobs:
        lacking = knob.missing_permission()
        if lacking:
            raise KnobRefused(f"{knob.label}: {lacking} (changing it needs {knob.permission}); nothing was changed")
    for knob, value in values:
        knob.allowed().check(value, knob.unit, knob.label)


@dataclass
class KnobGuard:
    """Changes knobs and puts them back.

    Use as a context manager: on exit every knob changed is restored to its original value, in
    reverse order of first change; a knob that cannot be restored is journaled
    (``knob_restore_failed``) and named in :attr:`failures`, and the others are still restored.
    """

    write: Write
    originals: dict[str, tuple[Knob, Value]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    def __enter__(self) -> KnobGuard:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.restore_all()

    def original(self, knob: Knob) -> Value | None:
        """The value ``knob`` held before this guard changed it (None until it is changed)."""
        held = self.originals.get(knob.label)
        return held[1] if held else None

    def apply(self, knob: Knob, value: Value) -> Value:
        """Set ``value`` on ``knob`` (its original journaled first); returns the value read back.

        Raises:
            KnobRefused: out of the device's range, or the device refused the change (a wrong password): nothing
                changed; a knob refused on its first change is not restored at exit, having never changed.
            KnobFailed: the device did not answer (it may have changed: it is restored at exit).
        """
        knob.allowed().check(value, knob.unit, knob.label)
        first = knob.label not in self.originals
        if first:
            original = knob.read()
            self.write({"type": "knob", "label": knob.label, "spec": knob.spec(), "unit": knob.unit,
                        "original": original})
            self.originals[knob.label] = (knob, original)
        try:
            knob.set(value)
        except KnobRefused:
            if first:  # the device refused its first change (a wrong password): it holds its original still
                _, original = self.originals.pop(knob.label)
                self.write({"type": "knob_restored", "label": knob.label, "value": original, "unchanged": True})
            raise
        read_back = knob.read()
        self.write({"type": "knob_set", "label": knob.label, "value": value, "read_back": read_back})
        return read_back

    def restore_all(self) -> list[str]:
        """Restore every knob changed; returns the failures (one line each), also kept in :attr:`failures`."""
        for label, (knob, original) in reversed(list(self.originals.items())):
            try:
                knob.restore(original)
            except (KnobFailed, KnobRefused, OSError) as exc:
                reason = f"{label}: not restored to {original!r}: {exc}"[:2000]
                self.failures.append(reason)
                self.write({"type": "knob_restore_failed", "label": label, "value": original, "reason": reason})
                continue
            self.restored.append(label)
            self.write({"type": "knob_restored", "label": label, "value": original})
        self.originals.clear()
        return list(self.failures)


def pending(lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``knob`` lines of a journal whose knob was never restored (the run was killed)."""
    changed: dict[str, dict[str, Any]] = {}
    for line in lines:
        label = line.get("label")
        if not isinstance(label, str):
            continue
        if line.get("type") == "knob" and label not in changed:
            changed[label] = line
        elif line.get("type") == "knob_restored":
            changed.pop(label, None)
    return list(changed.values())


def restore_journaled(lines: Iterable[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Restore what a killed run left changed: ``(restored, failures)``, one line each.

    A failure names the knob and the device it could not reach, and why.
    """
    restored, failures = [], []
    for line in pending(lines):
        label = str(line.get("label"))[:200]
        original = line.get("original")
        spec = line.get("spec")
        if not isinstance(spec, dict) or not isinstance(original, (int, float, str)) or isinstance(original, bool):
            failures.append(f"{label}: its journal line does not say how to restore it")
            continue
        try:
            knob = reopen(spec)
            knob.restore(original)
        except (KnobFailed, KnobRefused, OSError) as exc:
            failures.append(f"{label}: could not restore {original!r}: {exc}"[:2000])
            continue
        restored.append(f"{label}: restored to {original!r}")
    return restored, failures
