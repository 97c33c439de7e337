"""Checkpoint loading against transformers' LlamaForCausalLM, and KV-cache decode vs recomputation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from bench.errors import UsageError
from workloads.transformer.args import PRESETS
from workloads.transformer.checkpoint import load_checkpoint
from workloads.transformer.generate import greedy
from workloads.transformer.model import random_model

transformers = pytest.importorskip("transformers")


def _hf_model(tied: bool, rope_scaling: bool = False) -> Any:
    t = PRESETS["tiny"]
    cfg = transformers.LlamaConfig(
        vocab_size=t.vocab_size, hidden_size=t.dim, num_hidden_layers=t.n_layers, num_attention_heads=t.n_heads,
        num_key_value_heads=t.n_kv_heads, intermediate_size=t.intermediate_size, rms_norm_eps=t.norm_eps,
        max_position_embeddings=t.max_seq_len, tie_word_embeddings=tied,
        rope_theta=500000.0 if rope_scaling else 10000.0,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 64} if rope_scaling else None,
    )
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
    return model


def _save(model: Any, path: Path, sharded: bool) -> Path:
    from safetensors.torch import save_file

    path.mkdir()
    cfg = model.config.to_dict()
    cfg["architectures"] = ["LlamaForCausalLM"]
    (path / "config.json").write_text(json.dumps(cfg))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    if not sharded:
        save_file(state, str(path / "model.safetensors"))
        return path
    names = sorted(state)
    halves = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, part in enumerate(halves):
        fname = f"model-0000{i + 1}-of-00002.safetensors"
        save_file({n: state[n] for n in part}, str(path / fname))
        weight_map.update({n: fname for n in part})
    (path / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return path


@pytest.mark.parametrize(("tied", "sharded", "scaling"), [(False, False, False), (True, True, False),
                                                           (False, True, True)])
def test_logits_and_greedy_tokens_match_transformers(tmp_path: Path, tied: bool, sharded: bool,
                                                     scaling: bool) -> None:
    hf = _hf_model(tied, scaling)
    model = load_checkpoint(_save(hf, tmp_path / "ckpt", sharded))
    tokens = torch.randint(0, PRESETS["tiny"].vocab_size, (2, 37), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = hf(tokens).logits
        got = model(tokens, torch.arange(tokens.shape[1]))
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)
    with torch.no_grad():
        ref_ids = hf.generate(tokens[:1, :5], max_new_tokens=20, do_sample=False, min_new_tokens=20)[0, 5:]
    assert greedy(model, tokens[:1, :5], 20)[0].tolist() == ref_ids.tolist()


def test_kv_cache_decode_equals_full_recomputation() -> None:
    model = random_model(PRESETS["tiny"], seed=3)
    prompt = torch.randint(0, 512, (3, 9), generator=torch.Generator().manual_seed(2))
    new = greedy(model, prompt, 12)
    seq = torch.cat([prompt, new], dim=1)
    with torch.no_grad(), model.uncached():
        full = model(seq, torch.arange(seq.shape[1])).argmax(-1)
    assert model.caching, "the cache is back after the block"
    assert full[:, 8:-1].tolist() == new.tolist()


def test_generate_command_prints_greedy_ids(tmp_path: Path) -> None:
    hf = _hf_model(True)
    ckpt = _save(hf, tmp_path / "ckpt", False)
    out = subprocess.run([sys.executable, "-m", "bench", "generate", "--checkpoint", str(ckpt),
                          "--prompt-ids", "1,2,3", "--max-new-tokens", "6"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    with torch.no_grad():
        ref = hf.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=6, min_new_tokens=6, do_sample=False)[0, 3:]
    assert out.stdout.strip() == " ".join(map(str, ref.tolist()))


@pytest.mark.parametrize("case", ["missing", "no_config", "bad_json", "bad_arch", "bad_shape", "no_weights"])
def test_bad_checkpoint_is_a_usage_error(tmp_path: Path, case: str) -> None:
    d = tmp_path / "ckpt"
    if case != "missing":
        d = _save(_hf_model(False), d, False)
    if case == "no_config":
        (d / "config.json").unlink()
    elif case == "bad_json":
        (d / "config.json").write_text("{nope")
    elif case == "bad_arch":
        (d / "config.json").write_text(json.dumps({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}))
    elif case == "bad_shape":
        cfg = json.loads((d / "config.json").read_text())
        cfg["intermediate_size"] = 99
        (d / "config.json").write_text(json.dumps(cfg))
    elif case == "no_weights":
        (d / "model.safetensors").unlink()
    with pytest.raises(UsageError):
        load_checkpoint(d)


def test_generate_command_bad_input_exit_2(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "bench", "generate", "--checkpoint", str(tmp_path / "nope"),
                          "--prompt-ids", "1,2"], capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "does not exist" in (out.stderr + out.stdout)


@pytest.mark.parametrize("gqa", [True, False], ids=["enable_gqa", "repeat_interleave"])
def test_attention_paths_match_transformers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gqa: bool) -> None:
    """SDPA with enable_gqa (torch >= 2.5) and the older repeat_interleave path both equal HF Llama.

    Prefill is causal through ``is_causal`` (no explicit mask, so flash kernels stay eligible);
    with enable_gqa no K/V head is repeated.
    """
    import torch.nn.functional as F

    from workloads.transformer import model as model_mod

    hf = _hf_model(False)
    model = load_checkpoint(_save(hf, tmp_path / "ckpt", False))
    monkeypatch.setattr(model_mod, "SDPA_GQA", gqa)
    calls: list[dict[str, Any]] = []
    real_sdpa, real_repeat = F.scaled_dot_product_attention, torch.Tensor.repeat_interleave
    repeats = [0]

    def sdpa(*args: Any, **kwargs: Any) -> torch.Tensor:
        calls.append(kwargs)
        return real_sdpa(*args, **kwargs)

    def repeat(self: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        repeats[0] += 1
        return real_repeat(self, *args, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", sdpa)
    monkeypatch.setattr(torch.Tensor, "repeat_interleave", repeat)
    tokens = torch.randint(0, PRESETS["tiny"].vocab_size, (2, 23), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        ref = hf(tokens).logits
        calls.clear()
        repeats[0] = 0
        model.setup_caches(2, 30)
        got = model(tokens, torch.arange(23))
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)
    assert len(calls) == PRESETS["tiny"].n_layers
    assert all(c["is_causal"] and c["attn_mask"] is None for c in calls), "prefill: is_causal, no mask"
    assert all(c.get("enable_gqa", False) == gqa for c in calls)
    assert (repeats[0] == 0) == gqa
    with torch.no_grad():  # a decode step through the cache against HF on the grown sequence
        nxt = got[:, -1:].argmax(-1)
        step = model(nxt, torch.tensor([23]))
        decode_call = calls[-1]
        ref_step = hf(torch.cat([tokens, nxt], dim=1)).logits[:, -1:]
    torch.testing.assert_close(step, ref_step, atol=1e-4, rtol=1e-4)
    assert decode_call["attn_mask"] is not None and not decode_call["is_causal"], "decode: masked to the position"


def test_tied_checkpoint_shares_one_table_in_the_target_dtype(tmp_path: Path) -> None:
    model = load_checkpoint(_save(_hf_model(True), tmp_path / "ckpt", True), dtype=torch.bfloat16)
    assert model.output.weight is model.tok_embeddings.weight
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    assert not any(p.requires_grad for p in model.parameters())
    assert model.rope.dtype == torch.float32
