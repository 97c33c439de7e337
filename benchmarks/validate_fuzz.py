"""10,000 seeded mutations of a valid result file through the validator: no crash, and every file it
accepts has every figure equal to its recomputation from the raw samples. Not a test (CI runs 1,000 of
them in tests/bench/validation/test_fuzz.py).

The mutations (tests/bench/validation/mutate.py) damage fields at random, remove blocks (phases, the
measured windows, meters, traces, window energies, raw samples, the whole power block) and forge
consistently (energy, units or durations scaled in every field that holds them, sometimes the raw
readings too). "accepted with a wrong figure" counts files a figure of which differs from its
recomputation, or cannot be recomputed from what the file carries (a power figure without windows or
a trace): it must be 0. Of the accepted files, "at a false figure" counts those whose rate, power,
energy or efficiency differ from the honest file's; when they are not also wrong, their raw samples were
forged to match, which no recomputation can see (plausibility bounds them: ceiling, TDP).

Run: .venv/bin/python benchmarks/validate_fuzz.py [--files 10000] [--seed 20261125]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.validation import errors, validate_text  # noqa: E402
from tests.bench.validation.mutate import disagreements, false_figures, mutate  # noqa: E402

KEYS = ("refused", "accepted", "accepted with a wrong figure", "  of which at a false figure",
        "accepted at a false figure, raw samples forged to match", "crashed")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=20261125)
    o = ap.parse_args()
    doc = json.loads((ROOT / "tests" / "bench" / "data" / "result_cpu.json").read_text())
    rng = random.Random(o.seed)
    counts: Counter[str] = Counter()
    wrong: list[str] = []
    t0 = time.perf_counter()
    for _ in range(o.files):
        text = mutate(doc, rng)
        try:
            result = validate_text(text, "m.json")
        except Exception as exc:  # the thing this benchmark exists to find
            counts["crashed"] += 1
            wrong.append(f"crash: {type(exc).__name__}: {exc}")
            continue
        if result.doc is None or errors(result.findings):
            counts["refused"] += 1
            continue
        counts["accepted"] += 1
        bad, false = disagreements(result.doc), false_figures(result.doc, doc)
        if bad:
            counts["accepted with a wrong figure"] += 1
            counts["  of which at a false figure"] += bool(false)
            wrong.append("; ".join(bad))
        elif false:
            counts["accepted at a false figure, raw samples forged to match"] += 1
    took = time.perf_counter() - t0
    print(f"{o.files} mutated files in {took:.1f} s ({took / o.files * 1e3:.2f} ms each), seed {o.seed}")
    for key in KEYS:
        print(f"  {key:<56} {counts[key]:>6}")
    for line in wrong[:10]:
        print(f"  ! {line[:300]}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
