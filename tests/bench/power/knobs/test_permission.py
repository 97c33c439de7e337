"""Permission is read from the process (root, or CAP_SYS_ADMIN in CapEff) before anything changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.power.knobs import permission


def _status(tmp_path: Path, cap_eff: str) -> Path:
    path = tmp_path / "status"
    path.write_text(f"Name:\tpython\nUid:\t1000\t1000\t1000\t1000\nCapInh:\t0000000000000000\nCapEff:\t{cap_eff}\n")
    return path


@pytest.mark.parametrize(("cap_eff", "admin"), [
    ("0000000000000000", False),
    ("0000000000200000", True),   # bit 21 alone: CAP_SYS_ADMIN
    ("000001ffffffffff", True),   # a root shell's full set
    ("000001ffffdfffff", False),  # everything but CAP_SYS_ADMIN
])
def test_cap_sys_admin_is_bit_21_of_cap_eff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap_eff: str,
                                            admin: bool) -> None:
    monkeypatch.setattr(permission, "PROC_STATUS", _status(tmp_path, cap_eff))
    monkeypatch.setattr(permission.os, "geteuid", lambda: 1000)
    assert permission.is_admin() is admin
    lacking = permission.lacking_admin()
    assert (lacking is None) is admin
    if not admin:
        assert lacking == "this process (uid 1000) is not root and lacks CAP_SYS_ADMIN"


def test_root_is_admin_whatever_its_capabilities_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(permission, "PROC_STATUS", _status(tmp_path, "0000000000000000"))
    monkeypatch.setattr(permission.os, "geteuid", lambda: 0)
    assert permission.is_admin() and permission.lacking_admin() is None


def test_unreadable_or_odd_status_is_no_capability(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert permission.effective_capabilities(tmp_path / "absent") is None
    odd = tmp_path / "odd"
    odd.write_text("CapEff:\tzz\n")
    assert permission.effective_capabilities(odd) is None
    monkeypatch.setattr(permission, "PROC_STATUS", tmp_path / "absent")
    monkeypatch.setattr(permission.os, "geteuid", lambda: 1000)
    assert not permission.is_admin()
