"""`sitebench mine`: finds the genesis nonce; bad input is one line and exit 2."""

from __future__ import annotations

import pytest

from bench.cli import main
from workloads.hashing.sha256d import GENESIS_NONCE, GENESIS_PREFIX
from workloads.hashing.target import bits_to_target

G = GENESIS_PREFIX.hex()


def test_finds_genesis_nonce(capsys: pytest.CaptureFixture[str]) -> None:
    header80 = G + GENESIS_NONCE.to_bytes(4, "little").hex()
    rc = main(["mine", "--header", header80, "--start", str(GENESIS_NONCE - 4321), "--count", "9999",
               "--bits", "1d00ffff"])
    out = capsys.readouterr()
    assert rc == 0
    assert out.out == f"{GENESIS_NONCE}\n"
    assert "1 hit(s)" in out.err


def test_bits_decoding() -> None:
    assert bits_to_target("1d00ffff") == 0xFFFF << 208
    assert bits_to_target("1b0404cb") == 0x0404CB << (8 * 24)


@pytest.mark.parametrize("argv", [
    ["--header", "zz", "--bits", "1d00ffff"],
    ["--header", "00" * 75, "--bits", "1d00ffff"],
    ["--header", G, "--start", str(2 ** 32 - 1), "--count", "2", "--bits", "1d00ffff"],
    ["--header", G, "--count", "1", "--bits", "00000000"],
    ["--header", G, "--count", "1", "--bits", "xyz"],
    ["--header", G, "--count", "1", "--target", "0"],
])
def test_bad_input_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        rc = main(["mine", *argv])
        raise SystemExit(rc)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_finds_block_125552_nonce(capsys: pytest.CaptureFixture[str]) -> None:
    from workloads.hashing.vectors import BLOCK_125552 as B

    rc = main(["mine", "--header", B.header80, "--start", str(B.nonce - 20000), "--count", "40001",
               "--bits", B.bits])
    out = capsys.readouterr()
    assert rc == 0 and out.out == f"{B.nonce}\n"


def test_cuda_without_gpu_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["mine", "--header", G, "--count", "1", "--bits", "1d00ffff", "--device", "cuda"]))
    assert exc.value.code == 2 and "no CUDA GPU" in capsys.readouterr().err
