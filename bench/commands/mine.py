"""`sitebench mine`: every nonce in a range whose double SHA-256 meets the target."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.commands import help_of
from bench.errors import UsageError
from workloads.hashing.kernels.cpu.kernel_cpu import scan
from workloads.hashing.target import bits_to_target, parse_header, parse_target

SLICE = 1 << 24
GPU_SLICE = 1 << 30


def register(sub: Any) -> None:
    p = sub.add_parser("mine", help=help_of("mine"),
                       description="Print every hit nonce in [start, start+count), one decimal per line on "
                       "stdout; progress and a summary go to stderr. Exit 2 on bad input.")
    p.add_argument("--header", required=True, help="76-byte prefix or 80-byte header, hex, wire byte order")
    p.add_argument("--start", type=int, default=0, help="first nonce (default 0)")
    p.add_argument("--count", type=int, default=2 ** 32, help="number of nonces (default all 2^32)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--bits", help="compact target as in a block, e.g. 1d00ffff")
    g.add_argument("--target", help="256-bit target, big-endian hex")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="cpu (default) or cuda")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    prefix = parse_header(args.header)
    target = bits_to_target(args.bits) if args.bits else parse_target(args.target)
    if args.start < 0 or args.count <= 0 or args.start + args.count > 2 ** 32:
        raise UsageError("nonce range must be non-empty and lie within 0..2^32-1")
    scan, step = _scanner(args.device)
    t0 = time.perf_counter()
    done, hits = 0, 0
    while done < args.count:
        n = min(step, args.count - done)
        found = scan(prefix, args.start + done, n, target)
        for nonce in found.tolist():
            print(nonce, flush=True)
        hits += found.size
        done += n
        if args.count > step:
            print(f"{done}/{args.count} nonces", file=sys.stderr, flush=True)
    dt = time.perf_counter() - t0
    print(f"{hits} hit(s) in {done} nonces, {dt:.2f} s, {done / dt / 1e6:.2f} MH/s", file=sys.stderr)
    return 0


def _scanner(device: str) -> tuple[Callable[[bytes, int, int, int], Any], int]:
    """(scan(prefix, start, count, target) -> hit nonces on ``device``, nonces per call).

    Raises:
        UsageError: when ``device`` cannot run (no GPU, no triton).
    """

    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError("--device cuda: no CUDA GPU is available")
        try:
            import triton  # noqa: F401
        except ImportError:
            raise UsageError("--device cuda: the Triton kernel needs the triton package") from None
        from workloads.hashing.kernels.gpu.scan_cuda import scan_cuda
        return scan_cuda, GPU_SLICE
    return (lambda prefix, start, count, target: scan(prefix, start, count, target)[0]), SLICE
