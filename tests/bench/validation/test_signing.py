"""Signing and validating signed files: tampering, untrusted keys, duplicate keys, the closed signature block;
recomputed figures and fuzzed input through the validator."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.errors import CheckFailed
from bench.record import Document, dumps, from_json
from bench.validation import validate_file
from bench.validation.signing import generate_keypair, sign_document, trusted_keys, verify_document
from tests.bench.conftest import check


def _signed_text(doc: dict[str, Any], key: Path) -> str:
    return dumps(sign_document(from_json(doc), key))


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("keys")
    (d / "trusted").mkdir()
    generate_keypair(d / "a.key", d / "trusted" / "a.pub")
    generate_keypair(d / "b.key", d / "b.pub")
    return d / "a.key", d / "trusted", d / "b.key"


def test_valid_file_has_no_findings(doc: dict[str, Any]) -> None:
    assert check(doc) == []


def test_signed_file_verifies_and_any_digit_change_fails(doc: dict[str, Any], keys: tuple[Path, Path, Path]) -> None:
    key, trusted, _ = keys
    tk = trusted_keys(trusted)
    text = _signed_text(doc, key)
    assert verify_document(text, tk) in tk
    sig_start = text.index('"signature"')
    digits = [m.start() for m in re.finditer(r"\d", text) if m.start() < sig_start]
    assert len(digits) > 100
    for pos in digits[:: max(1, len(digits) // 60)]:
        altered = text[:pos] + str((int(text[pos]) + 1) % 10) + text[pos + 1:]
        with pytest.raises(CheckFailed):
            verify_document(altered, tk)


def test_a_key_written_twice_is_refused_before_any_signature_is_believed(
        doc: dict[str, Any], keys: tuple[Path, Path, Path]) -> None:
    key, trusted, _ = keys
    text = _signed_text(doc, key)
    forged = text.replace('"source": "measured"', '"source": "declared", "source": "measured"', 1)
    assert forged != text
    (f,) = validate_text_findings(forged)
    assert f.path == "$" and "'source' appears twice" in f.message


def test_the_signature_block_is_closed(doc: dict[str, Any], keys: tuple[Path, Path, Path]) -> None:
    key, trusted, _ = keys
    obj = json.loads(_signed_text(doc, key))
    obj["signature"]["note"] = "trust me"
    with pytest.raises(CheckFailed, match="exactly alg, key_id and value"):
        verify_document(json.dumps(obj), trusted_keys(trusted))
    assert any(f.path == "$.signature.note" for f in check(obj))


def validate_text_findings(text: str) -> list[Any]:
    from bench.validation import validate_text

    return validate_text(text).findings


def test_untrusted_key_fails_require_signature(doc: dict[str, Any], keys: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, trusted, other = keys
    path = tmp_path / "r.json"
    path.write_text(_signed_text(doc, other))
    r = subprocess.run([sys.executable, "-m", "bench", "validate", str(path), "--require-signature", "--keys", str(trusted)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "not a trusted key" in r.stdout and "Traceback" not in r.stderr


def test_recomputed_figures_catch_edits(doc: dict[str, Any]) -> None:
    doc["runs"][0]["throughput"]["median"] *= 1.5
    doc["runs"][0]["throughput"]["max"] *= 1.01
    doc["runs"][0]["throughput"]["mean"] *= 0.99
    doc["runs"][0]["power"]["meters"][0]["peak_w"] *= 3
    doc["runs"][1]["efficiency"]["per_joule"] *= 2
    doc["runs"][1]["throughput"]["samples"][0] *= 1.01
    paths = {f.path for f in check(doc)}
    assert {"$.runs[0].throughput.median", "$.runs[0].throughput.max", "$.runs[0].throughput.mean",
            "$.runs[0].power.meters[0].peak_w", "$.runs[1].efficiency.per_joule",
            "$.runs[1].throughput.samples[0]"} <= paths


def test_too_few_readings_and_declared_skipped(doc: dict[str, Any]) -> None:
    doc["runs"][0]["power"]["meters"][0]["readings"] = 3
    assert any(f.path == "$.runs[0].power.meters[0].readings" for f in check(doc))
    doc["source"] = "declared"
    assert all(f.check not in ("power", "samples") for f in check(doc))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=12)


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
    findings = check(_mutate(copy.deepcopy(doc), data))
    assert all(f.path.startswith("$") and f.message for f in findings)


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=60) | st.binary(max_size=60).map(lambda b: b.decode("latin-1")))
def test_fuzzed_text_validate_file(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    p = tmp_path_factory.mktemp("f") / "r.json"
    p.write_text(text, encoding="utf-8", errors="surrogatepass") if False else p.write_bytes(text.encode("utf-8", "replace"))
    result = validate_file(p)
    assert result.doc is None or isinstance(result.doc, Document)
    assert result.findings, "random text is never a valid result file"


def test_cli_handful(tmp_path: Path) -> None:
    for i, body in enumerate(["", "[1]", '{"schema": 3}', "{" * 5000, "NaN"]):
        p = tmp_path / f"{i}.json"
        p.write_text(body)
        r = subprocess.run([sys.executable, "-m", "bench", "validate", str(p)], capture_output=True, text=True)
        assert r.returncode == 1 and "Traceback" not in r.stderr and str(p) in r.stdout
    assert sorted(x.name for x in tmp_path.iterdir()) == [f"{i}.json" for i in range(5)]


def test_signed_floats_verify_as_written(doc: dict[str, Any], keys: tuple[Path, Path, Path]) -> None:
    key, trusted, _ = keys
    doc["runs"][0]["metrics"] = {"x": 0.1 + 0.2, "y": 1e-300}
    assert verify_document(_signed_text(doc, key), trusted_keys(trusted))


def test_a_signature_is_checked_and_reported_even_beside_schema_errors(
        doc: dict[str, Any], keys: tuple[Path, Path, Path], tmp_path: Path) -> None:
    key, trusted, _ = keys
    obj = json.loads(_signed_text(doc, key))
    obj["runs"][0]["throughput"]["min"] = -1.0  # a schema error, and the signature no longer matches
    path = tmp_path / "r.json"
    path.write_text(json.dumps(obj))
    r = subprocess.run([sys.executable, "-m", "bench", "validate", str(path), "--keys", str(trusted)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "throughput.min" in r.stdout and "[signature]" in r.stdout
