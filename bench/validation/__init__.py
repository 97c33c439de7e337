"""Result-file checker: small registered checks, each reporting file and JSON path.

In the style of the MLPerf submission checker: every check is a function
``check(doc) -> list[Finding]`` on the typed document, registered with
:func:`check`; :func:`validate_file` reads strictly, types the file (the
schema) and runs every check, and never raises on malformed input.
"""

from __future__ import annotations

from bench.validation import basis as _basis  # noqa: F401  (registers checks)
from bench.validation import consistency as _consistency  # noqa: F401
from bench.validation import contention as _contention  # noqa: F401
from bench.validation import derating as _derating  # noqa: F401
from bench.validation import derivation as _derivation  # noqa: F401
from bench.validation import fleetdoc as _fleetdoc  # noqa: F401
from bench.validation import plausibility as _plausibility  # noqa: F401
from bench.validation import provenance as _provenance  # noqa: F401
from bench.validation import settings as _settings  # noqa: F401
from bench.validation import shard as _shard  # noqa: F401  (registers the shard's samples check)
from bench.validation import shares as _shares  # noqa: F401
from bench.validation import soak as _soak  # noqa: F401
from bench.validation import trace as _trace  # noqa: F401
from bench.validation import windows as _windows  # noqa: F401
from bench.validation.core import CHECKS, Finding, Validated, check, errors, run_checks, validate_file, validate_text

__all__ = ["CHECKS", "Finding", "Validated", "check", "errors", "run_checks", "validate_file", "validate_text"]
