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


def main() -> None:
    """Rewrite the shipped schema file from the types."""
    path = Path(__file__).resolve().parent.parent / FILE
    path.write_text(text(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
