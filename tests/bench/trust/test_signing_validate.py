"""Signing and validation: tampering, untrusted keys, recomputed figures, fuzzed input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bench.errors import CheckFailed
from bench.signing import generate_keypair, sign_document, trusted_keys, verify_document
from bench.validation import validate, validate_file


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("keys")
    (d / "trusted").mkdir()
    generate_keypair(d / "a.key", d / "trusted" / "a.pub")
    generate_keypair(d / "b.key", d / "b.pub")
    return d / "a.key", d / "trusted", d / "b.key"


def test_valid_file_has_no_findings(doc: dict[str, Any]) -> None:
    assert validate(doc) == []


def test_signed_file_verifies_and_any_digit_change_fails(doc: dict[str, Any], keys: tuple[Path, Path, Path]) -> None:
    key, trusted, _ = keys
    signed = sign_document(doc, key)
    tk = trusted_keys(trusted)
    assert verify_document(signed, tk) in tk
    text = json.dumps(signed)
    assert verify_document(signed, tk, text) in tk
    sig_start = text.index('"signature"')
    digits = [m.start() for m in re.finditer(r"\d", text) if m.start() < sig_start]
    assert len(digits) > 100
    for pos in digits[:: max(1, len(digits) // 60)]:
        altered = text[:pos] + str((int(text[pos]) + 1) % 10) + text[pos + 1:]
        with pytest.raises(CheckFailed):
            verify_document(json.loads(altered), tk, altered)


def test_untrusted_key_fails_require_signature(doc: dict[str, Any], keys: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, trusted, other = keys
    path = tmp_path / "r.json"
    path.write_text(json.dumps(sign_document(doc, other)))
    r = subprocess.run([sys.executable, "-m", "bench", "validate", str(path), "--require-signature", "--keys", str(trusted)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "not a trusted key" in r.stdout and "Traceback" not in r.stderr


def test_recomputed_figures_catch_edits(doc: dict[str, Any]) -> None:
    doc["runs"][0]["throughput"]["median"] *= 1.5
    doc["runs"][1]["efficiency"]["per_joule"] *= 2
    doc["runs"][1]["throughput"]["samples"][0] *= 1.01
    paths = {f.path for f in validate(doc)}
    assert "$.runs[0].throughput.median" in paths
    assert "$.runs[1].efficiency.per_joule" in paths
    assert "$.runs[1].throughput.samples[0]" in paths


def test_too_few_readings_and_declared_skipped(doc: dict[str, Any]) -> None:
    doc["runs"][0]["power"]["meters"][0]["readings"] = 3
    assert any(f.path == "$.runs[0].power.meters[0].readings" for f in validate(doc))
    doc["source"] = "declared"
    assert all(f.check not in ("power", "samples") for f in validate(doc))


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                           | st.text(max_size=8), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                           max_leaves=12)


def _mutate(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    node: Any = doc
    for _ in range(data.draw(st.integers(0, 5))):
        if isinstance(node, dict) and node:
            k = data.draw(st.sampled_from(sorted(node)))
            if data.draw(st.booleans()):
                node[k] = data.draw(json_values)
                break
            node = node[k]
        elif isinstance(node, list) and node:
            i = data.draw(st.integers(0, len(node) - 1))
            if data.draw(st.booleans()):
                node[i] = data.draw(json_values)
                break
            node = node[i]
    return doc


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_documents_never_raise(doc: dict[str, Any], data: st.DataObject) -> None:
    import copy

    doc["runs"] = doc["runs"][:1]  # both runs have the same shape; one keeps 1500 examples quick
    findings = validate(_mutate(copy.deepcopy(doc), data))
    assert all(f.path.startswith("$") and f.message for f in findings)


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=60) | st.binary(max_size=60).map(lambda b: b.decode("latin-1")))
def test_fuzzed_text_validate_file(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    p = tmp_path_factory.mktemp("f") / "r.json"
    p.write_text(text, encoding="utf-8", errors="surrogatepass") if False else p.write_bytes(text.encode("utf-8", "replace"))
    doc, findings = validate_file(p)
    assert doc is None or isinstance(doc, dict)
    assert findings, "random text is never a valid result file"


def test_cli_handful(tmp_path: Path) -> None:
    for i, body in enumerate(["", "[1]", '{"schema": 3}', "{" * 5000, "NaN"]):
        p = tmp_path / f"{i}.json"
        p.write_text(body)
        r = subprocess.run([sys.executable, "-m", "bench", "validate", str(p)], capture_output=True, text=True)
        assert r.returncode == 1 and "Traceback" not in r.stderr and str(p) in r.stdout
    assert sorted(x.name for x in tmp_path.iterdir()) == [f"{i}.json" for i in range(5)]


def test_nan_signed_as_written(doc: dict[str, Any], keys: tuple[Path, Path, Path]) -> None:
    from bench.resultfile import dumps

    key, trusted, _ = keys
    doc["runs"][0]["metrics"] = {"x": float("nan")}
    text = dumps(sign_document(doc, key))
    assert verify_document(json.loads(text), trusted_keys(trusted), text)
