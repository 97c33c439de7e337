"""Count the SASS instructions the Triton kernels cost per unit of work (no GPU needed).

The kernels are compiled for an sm_90 target with the ptxas shipped in the triton wheel and
disassembled with its cuobjdump. sha256d: the whole kernel per thread over nonces per thread
(the figure behind ``GPU_INSTR_PER_SHA256D``). Batch sha256: the body of the kernel's block loop,
i.e. one compression per thread (``GPU_INSTR_PER_COMPRESSION``). Run:
``python -m workloads.hashing.kernels.gpu.sass_count``.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

# Opcodes that issue on the integer ALU lanes. IMAD (which ptxas uses as an add, shift or move)
# issues on the FMA pipe and is left out, so the ceiling stays an upper bound.
ALU_OPS = frozenset({"SHF", "LOP3", "IADD3", "VIADD", "PRMT", "ISETP", "LEA"})
_OP = re.compile(r"/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P[0-9T]\s+)?([A-Z][A-Z0-9_]*)")


def compile_cubin(arch: int = 90) -> tuple[bytes, int]:
    """(cubin of the production kernel configuration, nonces each thread hashes)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from workloads.hashing.kernels.gpu import kernel_triton as kt

    sig = {"params": "*i32", "start": "i64", "count": "i64", "hits": "*i32", "n_hits": "*i32",
           "h7_out": "*i32", "CAP": "constexpr", "KEEP": "constexpr", "BLOCK": "constexpr"}
    src = ASTSource(fn=kt._sha256d_kernel, signature=sig,
                    constexprs={"CAP": 4096, "KEEP": False, "BLOCK": kt.BLOCK})
    compiled = triton.compile(src, target=GPUTarget("cuda", arch, 32), options={"num_warps": kt.NUM_WARPS})
    return compiled.asm["cubin"], kt.BLOCK // (32 * kt.NUM_WARPS)


def compile_batch_cubin(arch: int = 90) -> tuple[bytes, int]:
    """(cubin of the production batch kernel configuration, messages each thread hashes)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from workloads.hashing.kernels.gpu import kernel_triton_batch as kb

    sig = {"words": "*i32", "out": "*i32", "n": "i64", "nblocks": "i64", "BLOCK": "constexpr"}
    src = ASTSource(fn=kb._sha256_blocks_kernel, signature=sig, constexprs={"BLOCK": kb.BLOCK})
    compiled = triton.compile(src, target=GPUTarget("cuda", arch, 32), options={"num_warps": kb.NUM_WARPS})
    return compiled.asm["cubin"], kb.BLOCK // (32 * kb.NUM_WARPS)


def sass_text(cubin: bytes) -> str:
    """The cubin disassembled by the triton wheel's cuobjdump."""
    import triton

    tool = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        return subprocess.run([str(tool), "-sass", f.name], capture_output=True, text=True, check=True).stdout


def opcode_counts(cubin: bytes) -> Counter[str]:
    """Opcodes (without modifiers) in the cubin's SASS."""
    return Counter(m.group(1) for m in _OP.finditer(sass_text(cubin)))


_INSTR = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(?:@!?U?P[0-9T]\s+)?([A-Z][A-Z0-9_]*)([^;]*);")


def loop_counts(sass: str) -> Counter[str]:
    """Opcodes between the target of the one backward branch and that branch: the loop body."""
    ins = [(int(a, 16), op, rest) for a, op, rest in _INSTR.findall(sass)]
    back = [(int(m.group(1), 16), at) for at, op, rest in ins if op == "BRA"
            for m in [re.search(r"0x([0-9a-f]+)", rest)] if m and int(m.group(1), 16) < at]
    if len(back) != 1:
        raise ValueError(f"expected one backward branch (the block loop), found {len(back)}")
    lo, hi = back[0]
    return Counter(op for at, op, _ in ins if lo <= at <= hi)


def per_compression(arch: int = 90) -> dict[str, float]:
    """Batch kernel instructions per compression by opcode (its loop body), plus ``ALU`` and ``ALL``."""
    cubin, per_thread = compile_batch_cubin(arch)
    out = {op: n / per_thread for op, n in loop_counts(sass_text(cubin)).most_common()}
    out["ALU"] = sum(n for op, n in out.items() if op in ALU_OPS)
    out["ALL"] = sum(n for op, n in out.items() if op != "ALU")
    return out


def per_hash(arch: int = 90) -> dict[str, float]:
    """Instructions per double hash by opcode, plus ``ALU`` (integer-lane total) and ``ALL``."""
    cubin, per_thread = compile_cubin(arch)
    out = {op: n / per_thread for op, n in opcode_counts(cubin).most_common()}
    out["ALU"] = sum(n for op, n in out.items() if op in ALU_OPS)
    out["ALL"] = sum(n for op, n in out.items() if op != "ALU")
    return out


def main() -> int:
    """Print the opcode histograms and totals: per double hash (sha256d), per compression (sha256)."""
    for op, n in per_hash().items():
        print(f"{op:8s} {n:8.1f} per double hash (sha256d)")
    for op, n in per_compression().items():
        print(f"{op:8s} {n:8.1f} per compression (sha256 batch loop body)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
