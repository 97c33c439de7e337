"""Whose key and whose file: the org lives in the key files and, once signed, in the document;
submit files a result under that org. And run --sign end to end on a real short run."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.errors import CheckFailed, UsageError
from bench.record import Submitter, dumps, from_json
from bench.store import submit
from bench.validation.signing import generate_keypair, key_org, sign_document


def _signed(doc: dict[str, Any], key: Path) -> dict[str, Any]:
    return dict(json.loads(dumps(sign_document(from_json(doc), key))))


def _sitebench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(private key of Acme Corp, trusted keys directory holding its .pub)."""
    d = tmp_path_factory.mktemp("keys")
    (d / "trusted").mkdir()
    generate_keypair(d / "acme.key", d / "trusted" / "acme.pub", "Acme Corp")
    return d / "acme.key", d / "trusted"


def test_keygen_writes_the_org_into_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen", "--out", str(tmp_path), "--org", "Acme Corp"]) == 0
    key, pub = tmp_path / "acme-corp.key", tmp_path / "acme-corp.pub"
    assert key_org(key) == key_org(pub) == "Acme Corp"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "Acme Corp" in capsys.readouterr().out
    assert main(["keygen", "--out", str(tmp_path), "--org", "bad\nname"]) == 2


def test_signing_puts_the_key_org_into_the_signed_content(doc: dict[str, Any], acme: tuple[Path, Path]) -> None:
    key, _ = acme
    typed = from_json(doc)
    signed = sign_document(typed, key)
    assert signed.submitter is not None and signed.submitter.org == "Acme Corp"
    with pytest.raises(UsageError, match="belongs to 'Acme Corp'"):
        sign_document(typed.model_copy(update={"submitter": Submitter(org="Someone Else")}), key)


def test_submit_takes_the_org_from_the_signing_key(doc: dict[str, Any], acme: tuple[Path, Path], tmp_path: Path) -> None:
    key, trusted = acme
    src = tmp_path / "r.json"
    src.write_text(json.dumps(_signed(doc, key)))
    with pytest.raises(CheckFailed, match="from 'Acme Corp'"):
        submit(src, "evil", tmp_path / "store", trusted)
    stored = submit(src, None, tmp_path / "store", trusted)
    assert stored.relative_to(tmp_path / "store").parts[0] == "acme-corp"


def test_submit_refuses_an_unverifiable_or_contradicting_file(doc: dict[str, Any], acme: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    key, trusted = acme
    src = tmp_path / "r.json"
    signed = _signed(doc, key)
    src.write_text(json.dumps(signed))
    with pytest.raises(CheckFailed, match="not a trusted key"):
        submit(src, None, tmp_path / "store", tmp_path)  # no trusted keys there
    signed["submitter"]["org"] = "Beta"  # altered after signing
    src.write_text(json.dumps(signed))
    with pytest.raises(CheckFailed, match="signature does not match"):
        submit(src, None, tmp_path / "store", trusted)
    unsigned = {k: v for k, v in signed.items() if k != "signature"}
    src.write_text(json.dumps(unsigned))
    with pytest.raises(CheckFailed, match="from 'Beta'"):
        submit(src, "acme", tmp_path / "store", trusted)
    unsigned.pop("submitter")
    src.write_text(json.dumps(unsigned))
    with pytest.raises(UsageError, match="give --org"):
        submit(src, None, tmp_path / "store", trusted)
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").glob("*/*/*.json"))


def test_run_sign_end_to_end(acme: tuple[Path, Path], tmp_path: Path) -> None:
    key, trusted = acme
    out = tmp_path / "run.json"
    # llm-decode: its ceiling (memory bandwidth) is far above a CPU run; sha256d's is measured
    # at setup and can come out below the run itself on a busy machine
    r = _sitebench("run", "-q", "-w", "llm-decode", "--idle", "0.1", "--warmup", "0.2", "--window", "0.6",
                   "--repeats", "2", "--sign", str(key), "--out", str(out))
    assert r.returncode == 0, r.stderr
    ok = _sitebench("validate", str(out), "--keys", str(trusted), "--require-signature")
    assert ok.returncode == 0 and "signed by Acme Corp" in ok.stdout, ok.stdout
    text = out.read_text()
    assert json.loads(text)["submitter"]["org"] == "Acme Corp"
    pos = re.search(r'"created": "\d', text).end() - 1  # a digit covered by no recomputed figure
    altered = tmp_path / "altered.json"
    altered.write_text(text[:pos] + str((int(text[pos]) + 1) % 10) + text[pos + 1:])
    bad = _sitebench("validate", str(altered), "--keys", str(trusted), "--require-signature")
    assert bad.returncode == 1 and "signature does not match" in bad.stdout and "Traceback" not in bad.stderr

def test_organisations_are_compared_as_written_not_as_file_names() -> None:
    from bench.store import _same_org

    assert _same_org("Acme  Corp ", "acme corp")
    assert not _same_org("Acme Corp", "Acme-Corp"), "different names that share a directory name"
    assert not _same_org("!!!", "???")
