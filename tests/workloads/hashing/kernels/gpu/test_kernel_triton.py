"""Triton kernels (sha256d, batch sha256) under TRITON_INTERPRET=1 on CPU tensors, against hashlib.

Triton reads TRITON_INTERPRET when ``@triton.jit`` decorates a function, i.e. when the kernel
modules are imported. The fixture imports (or reloads) them with the variable set and restores
the environment and the compiled-mode modules afterwards, so other tests in the same process
(and torch.compile on a GPU box) are unaffected. The kernels use only Triton builtins (no
``tl.zeros`` etc., which triton.language itself decorates at its import), so this works whenever
triton was imported. Each interpreted program costs 1-2 s: every launch here is one or two.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np
import pytest

pytest.importorskip("triton")
torch = pytest.importorskip("torch")

from workloads.hashing.kernels.gpu.scan_cuda import scan_cuda
from workloads.hashing.spec.reference import header_hash, is_hit
from workloads.hashing.target import bits_to_target
from workloads.hashing.vectors import BLOCKS

NAME = "workloads.hashing.kernels.gpu.kernel_triton"
_word_offset = None  # set by test_word_offsets_are_64_bit to the batch kernel's helper
BATCH = "workloads.hashing.kernels.gpu.kernel_triton_batch"


def _import_with(interpret: str | None) -> ModuleType:
    """(Re)import the kernel modules, in order, with TRITON_INTERPRET set to ``interpret``."""
    old = os.environ.get("TRITON_INTERPRET")
    if interpret is None:
        os.environ.pop("TRITON_INTERPRET", None)
    else:
        os.environ["TRITON_INTERPRET"] = interpret
    try:
        mods = [importlib.reload(sys.modules[m]) if m in sys.modules else importlib.import_module(m)
                for m in (NAME, BATCH)]
        return mods[0]
    finally:
        if old is None:
            os.environ.pop("TRITON_INTERPRET", None)
        else:
            os.environ["TRITON_INTERPRET"] = old


@pytest.fixture(scope="module")
def kt() -> Iterator[ModuleType]:
    """kernel_triton with its kernels decorated in interpreter mode."""
    from triton.runtime.interpreter import InterpretedFunction

    mod = _import_with("1")
    assert isinstance(mod._sha256d_kernel, InterpretedFunction)
    yield mod
    _import_with(os.environ.get("TRITON_INTERPRET"))


def test_h7_and_candidates_match_hashlib_up_to_2_32(kt: ModuleType) -> None:
    prefix = os.urandom(76)
    count = kt.INTERPRET_BLOCK + 903  # two programs, the second one partly masked
    start = 2 ** 32 - count  # the last nonce is 2^32 - 1
    h7 = torch.zeros(count, dtype=torch.int32)
    top = 0x00FFFFFF  # about 1 nonce in 256 passes the early test
    found, total = kt.candidates(prefix, start, count, top, "cpu", h7=h7)
    ref = [header_hash(prefix, start + i) for i in range(count)]
    got = h7.numpy().view(np.uint32)
    wrong = [start + i for i in range(count) if int(got[i]) != int.from_bytes(ref[i][28:], "big")]
    assert wrong == []
    want = [start + i for i in range(count) if int.from_bytes(ref[i][28:], "little") <= top]
    assert found == want and total == len(want) > 0


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: str(b.height))
def test_finds_real_block_nonce(kt: ModuleType, block) -> None:
    start = block.nonce - 1717
    assert scan_cuda(block.prefix, start, 3001, bits_to_target(block.bits), "cpu").tolist() == [block.nonce]


def test_easy_target_hits_match_hashlib(kt: ModuleType) -> None:
    prefix = os.urandom(76)
    start = int.from_bytes(os.urandom(4), "little") % (2 ** 32 - 3000)
    target = 1 << 250  # about 1 in 64: the host's full comparison decides most candidates
    want = [n for n in range(start, start + 2999) if is_hit(prefix, n, target)]
    assert scan_cuda(prefix, start, 2999, target, "cpu").tolist() == want


def test_full_buffer_is_split_and_rescanned(monkeypatch: pytest.MonkeyPatch) -> None:
    """More candidates than the buffer holds: halves are rescanned until each fits (no kernel)."""
    import workloads.hashing.kernels.gpu.scan_cuda as sc

    calls: list[tuple[int, int]] = []

    def fake(prefix: bytes, lo: int, n: int, top: int, device: str, cap: int) -> tuple[list[int], int]:
        calls.append((lo, n))
        every = [x for x in range(lo, lo + n) if int.from_bytes(header_hash(prefix, x)[28:], "little") <= top]
        return every[:cap], len(every)

    monkeypatch.setitem(sys.modules, NAME, type(sys)("fake"))
    sys.modules[NAME].candidates = fake  # type: ignore[attr-defined]
    monkeypatch.setattr(sc, "CAP", 5)
    prefix = os.urandom(76)
    target = 1 << 252
    want = [n for n in range(1000, 1600) if is_hit(prefix, n, target)]
    assert sc.scan_cuda(prefix, 1000, 600, target, "cpu").tolist() == want
    assert len(calls) > 1 and all(n <= 600 for _, n in calls)


def test_batch_sha256_matches_hashlib_and_nist(kt: ModuleType) -> None:
    """Padding edges: 0 (one block), 56 (length spills into a second block), 64 (full block + tail)."""
    from workloads.hashing.kernels.gpu.kernel_triton_batch import (
        digests,
        pad_words,
        sha256_batch_states,
    )

    nist = {0: b"", 56: b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"}
    for length in (0, 56, 64):
        rows = 37  # fewer than a program's block: the tail of the program is masked
        msgs = np.frombuffer(os.urandom(rows * length), np.uint8).reshape(rows, length).copy()
        if length in nist:
            msgs[0] = np.frombuffer(nist[length], np.uint8)
        got = digests(sha256_batch_states(pad_words(torch.from_numpy(msgs))))
        assert [bytes(d) for d in got] == [hashlib.sha256(m.tobytes()).digest() for m in msgs]


def test_batch_over_several_programs_matches_hashlib(kt: ModuleType) -> None:
    """Two programs, the second partly masked, 3-block messages: every row checked."""
    from workloads.hashing.kernels.gpu.kernel_triton_batch import (
        INTERPRET_BLOCK,
        digests,
        pad_words,
        sha256_batch_states,
    )

    rows, length = INTERPRET_BLOCK + 29, 130
    msgs = np.frombuffer(os.urandom(rows * length), np.uint8).reshape(rows, length).copy()
    got = digests(sha256_batch_states(pad_words(torch.from_numpy(msgs))))
    assert [bytes(d) for d in got] == [hashlib.sha256(m.tobytes()).digest() for m in msgs]


def test_word_offsets_are_64_bit(kt: ModuleType) -> None:
    """The batch kernel's offset helper past 2^31 words, run through the interpreter.

    What this proves: ``_word_offset``, which every load of the kernel goes through, gives the
    exact 64-bit offset for block/word/row values whose offset passes 2^31 (a batch of 2^27 + 5
    messages, block 20, as a 1 KiB batch of 8M messages reaches), where the former int32 expression
    ``blk * 16 * n + k * n + r`` wraps (computed beside it as a check that these inputs catch it).
    What it does not: run the whole kernel on a batch that size (tens of GB).
    """
    import triton
    import triton.language as tl

    global _word_offset
    _word_offset = sys.modules[BATCH]._word_offset  # the interpreter resolves names in module globals
    old = os.environ.get("TRITON_INTERPRET")
    os.environ["TRITON_INTERPRET"] = "1"
    try:
        @triton.jit
        def probe(out, old_out, blk, n, r0, BLOCK: tl.constexpr):
            r = r0 + tl.arange(0, BLOCK).to(tl.int64)
            lanes = tl.arange(0, BLOCK)
            n64 = n.to(tl.int64)
            for k in tl.static_range(16):
                tl.store(out + k * BLOCK + lanes, _word_offset(blk, k, n64, r))
                tl.store(old_out + k * BLOCK + lanes, (blk * 16 * n + k * n + r0 + lanes).to(tl.int64))
    finally:
        if old is None:
            os.environ.pop("TRITON_INTERPRET", None)
        else:
            os.environ["TRITON_INTERPRET"] = old
    n, blk, r0, block = 2 ** 27 + 5, 20, 2 ** 27 - 3, 4
    out = torch.zeros(16 * block, dtype=torch.int64)
    old_out = torch.zeros(16 * block, dtype=torch.int64)
    probe[(1,)](out, old_out, blk, n, r0, BLOCK=block)
    want = [(blk * 16 + k) * n + r0 + i for k in range(16) for i in range(block)]
    assert out.tolist() == want and max(want) > 2 ** 31
    assert old_out.tolist() != want  # the int32 expression wraps for these inputs


def test_launches_run_on_the_tensors_gpu(kt: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both kernels launch inside ``on_device(tensor)``, which is torch.cuda.device(tensor.device)."""
    from contextlib import nullcontext

    from workloads.hashing.kernels.gpu.kernel_triton_batch import pad_words, sha256_batch_states

    seen: list[object] = []

    def device(dev: object) -> nullcontext[None]:
        seen.append(dev)
        return nullcontext()

    monkeypatch.setattr(torch.cuda, "device", device)

    class FakeCuda:
        is_cuda = True
        device = "cuda:1"

    kt.on_device(FakeCuda())  # type: ignore[arg-type]
    assert seen == ["cuda:1"]
    assert isinstance(kt.on_device(torch.zeros(1)), nullcontext)  # CPU tensors: the interpreter
    used: list[object] = []
    real = kt.on_device

    def recording(t: Any) -> object:
        used.append(t)
        return real(t)

    monkeypatch.setattr(sys.modules[BATCH], "on_device", recording)
    monkeypatch.setattr(kt, "on_device", recording)
    sha256_batch_states(pad_words(torch.zeros((3, 5), dtype=torch.uint8)))
    kt.candidates(os.urandom(76), 0, 10, 0, "cpu")
    assert len(used) == 2


def test_bad_range_rejected() -> None:
    with pytest.raises(ValueError):
        scan_cuda(os.urandom(76), 2 ** 32 - 1, 2, 1)
