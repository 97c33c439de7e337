"""sha256d / sha256 workloads: parameters, verify, steps, code paths, ceilings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import workloads.hashing.sha256 as sha256_mod
from bench.errors import UsageError, VerificationError
from workloads.hashing.ceiling import (
    cpu_compressions_per_s,
    cpu_sha256_compressions_per_s,
    cpu_simd_sha256d_ceiling,
)
from workloads.hashing.host.cpu import has_sha_ni
from workloads.hashing.kernels.cpu import batch_cpu
from workloads.hashing.sha256 import Sha256Workload
from workloads.hashing.sha256d import Sha256dWorkload
from workloads.hashing.spec.sha256_consts import compressions_sha256


def test_compression_counts() -> None:
    assert [compressions_sha256(n) for n in (0, 55, 56, 64, 119, 120, 1024)] == [1, 1, 2, 2, 2, 3, 17]


def _sha256(params: dict[str, Any], device: str = "cpu") -> Sha256Workload:
    w = Sha256Workload()
    w.setup(device, w.params_for("ci", params))
    return w


def test_sha256d_verify_step_code_path_and_ceiling() -> None:
    rate = cpu_compressions_per_s()
    assert rate > 1e5
    d = Sha256dWorkload()
    d.setup("cpu", {"batch": 1000, "seed": 1})
    d.verify()
    assert d.step() == 1000 and d.next_nonce == 1000
    d.next_nonce = 2 ** 32 - 10
    assert d.step() == 1000 and d.next_nonce == 1000  # wraps to 0 instead of running past 2^32
    assert d.ceiling("cpu") == pytest.approx(max(rate / 2, cpu_simd_sha256d_ceiling() or 0.0), rel=1e-12)
    assert d.ceiling("cuda") is None
    assert d.metrics()["code_path"].startswith("cpu:simd ")


@pytest.mark.parametrize("kernel,path", [("auto", "cpu:"), ("simd", "cpu:simd "), ("simd4", "cpu:simd "),
                                         ("simd16", "cpu:simd "), ("scalar", "cpu:scalar fallback"),
                                         ("sha-ni", "cpu:sha-ni x4 interleave")])
def test_sha256_kernels_verify_step_and_record_their_path(kernel: str, path: str) -> None:
    if kernel == "sha-ni" and not has_sha_ni():
        pytest.skip("this CPU has no SHA extensions")
    w = _sha256({"batch": "301", "length": "100", "kernel": kernel})
    w.verify()
    assert w.step() == 301
    m = w.metrics()
    assert m["code_path"].startswith(path)
    assert all(v is None or isinstance(v, (str, int, float, bool)) for v in m.values())  # flat scalars
    if kernel == "auto":
        assert m["kernel_choice"] and m["code_path"] == batch_cpu.best_kernel(100)[0].code_path
    assert [bytes(d) for d in w.out] == [bytes(d) for d in batch_cpu.kernel("simd", 8)(w.msgs)]


def test_sha256_ceiling_is_the_issue_bound_per_message() -> None:
    w = _sha256({"batch": "64", "length": "1024"})
    bound = cpu_sha256_compressions_per_s()
    assert bound is not None and w.ceiling("cpu") == pytest.approx(bound / 17)


def test_sha256_cuda_ceiling_from_counted_instructions(monkeypatch: pytest.MonkeyPatch) -> None:
    from workloads.hashing.ceiling import GPU_INSTR_PER_COMPRESSION

    monkeypatch.setattr(sha256_mod, "gpu_name", lambda device: "NVIDIA H100 80GB HBM3")
    w = Sha256Workload()
    w.length = 64
    assert w.ceiling("cuda:1") == pytest.approx(132 * 64 * 1.98e9 / GPU_INSTR_PER_COMPRESSION / 2)


def test_verify_catches_a_wrong_last_row() -> None:
    """The production batch is hashed whole in verify: a kernel wrong only at the end of it fails."""
    w = _sha256({"batch": "1000", "length": "64"})
    good = w.run

    def broken(msgs: np.ndarray, out: np.ndarray) -> None:
        good(msgs, out)
        if msgs.shape[0] == 1000:
            out[-1, 0] ^= 1

    w.run = broken
    with pytest.raises(VerificationError, match="row 999 of the 1000-message batch"):
        w.verify()


@pytest.mark.parametrize("params,match", [
    ({"batch": "0"}, "batch=0 is out of range"),
    ({"batch": "-5"}, "batch=-5 is out of range"),
    ({"batch": str(1 << 40)}, "out of range"),
    ({"length": "-1"}, "length=-1 is out of range"),
    ({"length": str(1 << 30)}, "out of range"),
    ({"batch": str(1 << 30), "length": "65536"}, "bytes of messages"),
    ({"kernel": "avx1024"}, "kernel='avx1024' is not one of"),
    ({"seed": "-1"}, "seed=-1 is out of range"),
])
def test_sha256_bad_parameters_are_usage_errors(params: dict[str, str], match: str) -> None:
    w = Sha256Workload()
    with pytest.raises(UsageError, match=match):
        w.preflight("cpu", w.params_for("ci", params))
    with pytest.raises(UsageError):
        w.setup("cpu", w.params_for("ci", params))


def test_sha256_gpu_parameters_checked_without_a_gpu() -> None:
    w = Sha256Workload()
    with pytest.raises(UsageError, match="gpu_batch=0"):
        w.preflight("cuda", w.params_for("ci", {"gpu_batch": "0"}))
    with pytest.raises(UsageError, match="gpu_batch=0"):  # on a CPU run too
        w.preflight("cpu", w.params_for("ci", {"gpu_batch": "0"}))
    with pytest.raises(UsageError, match="CPU kernel"):
        w.preflight("cuda:0", w.params_for("ci", {"kernel": "simd"}))


def test_sha_ni_refused_where_the_cpu_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sha256_mod, "has_sha_ni", lambda: False)
    w = Sha256Workload()
    with pytest.raises(UsageError, match="no SHA extensions"):
        w.preflight("cpu", w.params_for("ci", {"kernel": "sha-ni"}))


@pytest.mark.parametrize("params,match", [({"batch": 0}, "batch=0"), ({"batch": 2 ** 32 + 1}, "out of range"),
                                          ({"batch": 2.5}, "not an integer"), ({"batch": True}, "not an integer"),
                                          ({"batch": 10, "seed": "x"}, "not an integer")])
def test_sha256d_bad_parameters_are_usage_errors(params: dict[str, Any], match: str) -> None:
    d = Sha256dWorkload()
    with pytest.raises(UsageError, match=match):
        d.preflight("cpu", params)
    with pytest.raises(UsageError, match="gpu_batch=0"):
        d.preflight("cuda", d.params_for("ci", {"gpu_batch": "0"}))
    with pytest.raises(UsageError, match="gpu_batch=0"):
        d.preflight("cpu", d.params_for("ci", {"gpu_batch": "0"}))


def test_bad_parameter_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.cli import main

    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["run", "-w", "sha256", "--param", "length=-3", "--idle", "0"]))
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "length=-3" in err and "Traceback" not in err
