"""`sitebench generate`: greedy token ids from a local Hugging Face Llama checkpoint."""

from __future__ import annotations

import argparse
from typing import Any

from bench.commands import help_of
from bench.errors import UsageError
from workloads.transformer.checkpoint import load_checkpoint
from workloads.transformer.generate import greedy


def register(sub: Any) -> None:
    p = sub.add_parser("generate", help=help_of("generate"),
                       description="Print the greedy continuation of --prompt-ids, space-separated, on one line.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, metavar="DIR", help="HF Llama-format directory (config.json + safetensors)")
    p.add_argument("--prompt-ids", required=True, metavar="I,J,K", help="comma-separated prompt token ids")
    p.add_argument("--max-new-tokens", type=int, default=16, metavar="N", help="tokens to generate (default 16)")
    p.add_argument("--device", "-d", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"), help="weight precision")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import torch


    try:
        ids = [int(x) for x in args.prompt_ids.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--prompt-ids must be comma-separated integers, got {args.prompt_ids!r}") from None
    if not ids:
        raise UsageError("--prompt-ids is empty")
    if args.max_new_tokens < 1:
        raise UsageError("--max-new-tokens must be at least 1")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"device {args.device!r} is not available")
    model = load_checkpoint(args.checkpoint, dtype=getattr(torch, args.dtype), device=args.device)
    if max(ids) >= model.args.vocab_size or min(ids) < 0:
        raise UsageError(f"prompt ids must lie in [0, {model.args.vocab_size})")
    prompt = torch.tensor([ids], device=args.device)
    print(" ".join(str(t) for t in greedy(model, prompt, args.max_new_tokens)[0].tolist()))
    return 0
