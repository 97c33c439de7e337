"""Peer benchmark: the same Llama config and weights through transformers' generate and sitebench.

Usage: python benchmarks/transformer_peer.py [--model tiny] [--batch 1] [--prompt-len 32]
       [--new-tokens 128] [--device cpu] [--dtype float32]
Prints decode tok/s of both, their ratio, and on GPU sitebench's MBU. Not a test.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch


def _hf_model(args: object, model_name: str, dtype: torch.dtype, device: str):  # type: ignore[no-untyped-def]
    import transformers

    from workloads.transformer.args import PRESETS

    a = PRESETS[model_name]
    cfg = transformers.LlamaConfig(
        vocab_size=a.vocab_size, hidden_size=a.dim, num_hidden_layers=a.n_layers, num_attention_heads=a.n_heads,
        num_key_value_heads=a.n_kv_heads, intermediate_size=a.intermediate_size, rms_norm_eps=a.norm_eps,
        max_position_embeddings=a.max_seq_len, rope_theta=a.rope_theta, tie_word_embeddings=False)
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(cfg).to(device=device, dtype=dtype).eval()


def _timed(fn, device: str, reps: int = 3) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    best = float("inf")
    for _ in range(reps):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    """Run both engines on the same weights and print the comparison."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="tiny")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--prompt-len", type=int, default=32)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32")
    o = p.parse_args()
    torch.set_grad_enabled(False)
    from safetensors.torch import save_file

    from workloads.transformer.checkpoint import load_checkpoint
    from workloads.transformer.common import weight_bytes
    from workloads.transformer.generate import greedy
    from workloads.transformer.roofline import peaks

    dtype = getattr(torch, o.dtype)
    hf = _hf_model(None, o.model, dtype, o.device)
    with tempfile.TemporaryDirectory() as tmp:
        hf.config.save_pretrained(tmp)
        save_file({k: v.contiguous().cpu() for k, v in hf.state_dict().items()}, str(Path(tmp) / "model.safetensors"))
        ours = load_checkpoint(tmp, dtype=dtype, device=o.device)
    prompt = torch.randint(0, hf.config.vocab_size, (o.batch, o.prompt_len),
                           generator=torch.Generator().manual_seed(1)).to(o.device)
    n = o.new_tokens
    hf_out = hf.generate(prompt, max_new_tokens=n, min_new_tokens=n, do_sample=False)[:, o.prompt_len:]
    our_out = greedy(ours, prompt, n)
    same = torch.equal(hf_out, our_out)
    t_hf = _timed(lambda: hf.generate(prompt, max_new_tokens=n, min_new_tokens=n, do_sample=False), o.device)
    t_us = _timed(lambda: greedy(ours, prompt, n), o.device)
    tok = o.batch * n
    print(f"config: {o.model} {o.dtype} batch={o.batch} prompt={o.prompt_len} new={n} device={o.device} "
          f"threads={torch.get_num_threads()}")
    print(f"identical greedy tokens: {same}")
    print(f"transformers generate: {tok / t_hf:10.1f} tok/s ({t_hf * 1e3:.1f} ms)")
    print(f"sitebench greedy:      {tok / t_us:10.1f} tok/s ({t_us * 1e3:.1f} ms)")
    print(f"ratio sitebench / transformers: {t_hf / t_us:.2f}x")
    figures = peaks(o.device)
    if figures and o.device.startswith("cuda"):
        mbu = (tok / t_us) / o.batch * weight_bytes(ours) / figures[0]
        print(f"sitebench MBU (weights only, incl. prefill in time): {mbu:.1%}")


if __name__ == "__main__":
    main()
