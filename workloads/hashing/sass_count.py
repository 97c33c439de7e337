"""Count the SASS instructions one double hash costs in the Triton kernel (no GPU needed).

The kernel is compiled for an sm_90 target with the ptxas shipped in the triton wheel and
disassembled with its cuobjdump; counts are per thread over nonces per thread. Run:
``python -m workloads.hashing.sass_count`` (the figure behind ``GPU_INSTR_PER_HASH``).
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

    from workloads.hashing import kernel_triton as kt

    sig = {"params": "*i32", "start": "i64", "count": "i64", "hits": "*i32", "n_hits": "*i32",
           "h7_out": "*i32", "CAP": "constexpr", "KEEP": "constexpr", "BLOCK": "constexpr"}
    src = ASTSource(fn=kt._sha256d_kernel, signature=sig,
                    constexprs={"CAP": 4096, "KEEP": False, "BLOCK": kt.BLOCK})
    compiled = triton.compile(src, target=GPUTarget("cuda", arch, 32), options={"num_warps": kt.NUM_WARPS})
    return compiled.asm["cubin"], kt.BLOCK // (32 * kt.NUM_WARPS)


def opcode_counts(cubin: bytes) -> Counter[str]:
    """Opcodes (without modifiers) in the cubin's SASS."""
    import triton

    tool = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        sass = subprocess.run([str(tool), "-sass", f.name], capture_output=True, text=True, check=True).stdout
    return Counter(m.group(1) for m in _OP.finditer(sass))


def per_hash(arch: int = 90) -> dict[str, float]:
    """Instructions per double hash by opcode, plus ``ALU`` (integer-lane total) and ``ALL``."""
    cubin, per_thread = compile_cubin(arch)
    out = {op: n / per_thread for op, n in opcode_counts(cubin).most_common()}
    out["ALU"] = sum(n for op, n in out.items() if op in ALU_OPS)
    out["ALL"] = sum(n for op, n in out.items() if op != "ALU")
    return out


def main() -> int:
    """Print the opcode histogram and the per-hash totals."""
    for op, n in per_hash().items():
        print(f"{op:8s} {n:8.1f} per double hash")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
