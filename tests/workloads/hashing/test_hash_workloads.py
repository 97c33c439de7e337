"""sha256d / sha256 workloads: verify passes, steps count their work, ceilings are sane."""

from __future__ import annotations

from workloads.hashing.ceiling import compressions_sha256, cpu_compressions_per_s, cpu_simd_sha256d_ceiling
from workloads.hashing.sha256 import Sha256Workload
from workloads.hashing.sha256d import Sha256dWorkload


def test_compression_counts() -> None:
    assert [compressions_sha256(n) for n in (0, 55, 56, 64, 119, 120, 1024)] == [1, 1, 2, 2, 2, 3, 17]


def test_workloads_verify_step_and_ceiling() -> None:
    rate = cpu_compressions_per_s()
    assert rate > 1e5
    d = Sha256dWorkload()
    d.setup("cpu", {"batch": 1000, "seed": 1})
    d.verify()
    assert d.step() == 1000 and d.next_nonce == 1000
    d.next_nonce = 2 ** 32 - 10
    assert d.step() == 1000 and d.next_nonce == 1000  # wraps to 0 instead of running past 2^32
    assert d.ceiling("cpu") == max(rate / 2, cpu_simd_sha256d_ceiling() or 0.0) and d.ceiling("cuda") is None
    s = Sha256Workload()
    s.setup("cpu", {"batch": 100, "length": 1024, "seed": 1})
    s.verify()
    assert s.step() == 100
    assert s.ceiling("cpu") == rate / 17
