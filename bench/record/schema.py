"""The shipped JSON Schema of ``sitebench.result/2``, generated from the record's types.

``python -m bench.record.schema`` rewrites ``bench/schemas/result-2.schema.json``;
a test fails when the shipped file and the types disagree.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from bench.record.document import SCHEMA_ID, Document

FILE = "schemas/result-2.schema.json"


def generate() -> dict[str, Any]:
    """The JSON Schema the types define (validation mode, closed objects, bounds)."""
    schema = Document.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "sitebench result file, version 2", **{k: v for k, v in schema.items() if k != "title"}}


def text() -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(generate(), indent=1, sort_keys=True) + "\n"


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any]:
    """The schema file shipped inside the package."""
    return dict(json.loads(resources.files("bench").joinpath(FILE).read_text("utf-8")))


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.record.schema [--check]``: rewrite the shipped schema file from the types,
    or (``--check``) exit 1 when it differs from them."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.record.schema", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="only say whether the shipped file is current")
    args = parser.parse_args(argv)
    path = Path(__file__).resolve().parent.parent / FILE
    if args.check:
        current = path.read_text(encoding="utf-8") == text()
        print(f"{path}: {'current' if current else 'differs from the types (rerun without --check)'}")
        return 0 if current else 1
    path.write_text(text(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
