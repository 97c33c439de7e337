"""A seeded mutator of result files, and an independent recomputation of their figures.

Used by the CI-sized fuzz test and by ``benchmarks/validate_fuzz.py`` (10,000 files).
"""

from __future__ import annotations

import copy
import json
import math
import random
from typing import Any

import numpy as np

WRONG = [None, True, "x", "1e999", "", [], {}, -1, -1.0, 0, 1e308, -1e308, 2**70, "\u0000", "\ud800",
         "h" * 5000, [1, 2, 3], {"a": 1}]


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:6]):  # a few items of a long series are enough
            out += _leaves(v, (*path, i))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    node = doc
    for p in path[:-1]:
        node = node[p]
    return node, path[-1]


def mutate(doc: dict[str, Any], rng: random.Random) -> str:
    """A mutated copy of ``doc`` as file text: fields deleted, set to wrong types or extremes, numbers
    nudged, keys doubled, the text truncated."""
    doc = copy.deepcopy(doc)
    paths = [p for p in _leaves(doc) if p]
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths)
        try:  # an earlier mutation may have replaced a node on this path
            parent, key = _parent(doc, path)
            op = rng.random()
            if op < 0.25 and isinstance(parent, dict):
                parent.pop(key, None)
            elif op < 0.6:
                parent[key] = rng.choice(WRONG)
            elif op < 0.85 and isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
                parent[key] = parent[key] * rng.choice([-1, 0, 0.5, 1.000001, 2, 1e6])
            elif isinstance(parent[key], list) and parent[key]:
                del parent[key][rng.randrange(len(parent[key]))]
        except (KeyError, IndexError, TypeError):
            continue
    text = json.dumps(doc)
    roll = rng.random()
    if roll < 0.05:
        text = text[: rng.randrange(len(text))]
    elif roll < 0.1:
        text = text.replace('"source": "measured"', '"source": "declared", "source": "measured"', 1)
    return text


def _close(a: float | None, b: float | None, rel: float = 1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def disagreements(doc: Any) -> list[str]:
    """Every figure of an accepted document that differs from its own recomputation from the raw samples.

    An implementation of its own (numpy on the JSON object), not the validator's.
    """
    if doc.declared:
        return []
    out = []
    for i, run in enumerate(doc.runs):
        if run.status != "ok":
            continue
        t, p = run.throughput, run.power
        u, d = np.array(t.units, dtype=float), np.array(t.durations_s, dtype=float)
        s = np.array(t.samples, dtype=float)
        if len(u) != len(s) or len(d) != len(s) or not len(s):
            out.append(f"runs[{i}]: {len(s)} samples, {len(u)} units, {len(d)} durations")
            continue
        want = {"rate": u.sum() / d.sum(), "median": float(np.median(s)), "p10": float(np.percentile(s, 10)),
                "p90": float(np.percentile(s, 90)), "mean": float(s.mean()), "min": float(s.min()),
                "max": float(s.max())}
        if not np.allclose(s, u / d, rtol=1e-6):
            out.append(f"runs[{i}].samples")
        for key, value in want.items():
            if not _close(getattr(t, key), value):
                out.append(f"runs[{i}].throughput.{key}: {getattr(t, key)} != {value}")
        cv = float(s.std(ddof=1) / s.mean()) if len(s) > 1 and s.mean() else 0.0
        if not _close(t.cv, cv, 1e-4) or t.unstable != (cv > 0.10):
            out.append(f"runs[{i}].throughput.cv/unstable")
        if p.energy_j:
            if not _close(run.efficiency.per_joule, u.sum() / p.energy_j):
                out.append(f"runs[{i}].efficiency.per_joule")
            if p.window_s and p.avg_w is not None and not _close(p.avg_w, p.energy_j / p.window_s, 1e-3):
                out.append(f"runs[{i}].power.avg_w")
            if p.window_energy_j and not _close(sum(p.window_energy_j), p.energy_j, 1e-3):
                out.append(f"runs[{i}].power.window_energy_j")
        if run.ceiling and not _close(run.ceiling_fraction, want["rate"] / run.ceiling):
            out.append(f"runs[{i}].ceiling_fraction")
        for k, m in enumerate(p.meters):
            if m.energy_j is not None and m.duration_s and m.avg_w is not None \
                    and not _close(m.avg_w, m.energy_j / m.duration_s):
                out.append(f"runs[{i}].power.meters[{k}].avg_w")
    return out
