"""GPU paths shown on CPU: device scope and per-device events (faked CUDA), no host tensors per token,
compile in setup with verification through the compiled step (faked compile), peaks by exact name,
bytes per decode step and the dtype's matrix peak."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

from workloads.transformer import base, clock, compiled, decode, prefill, serve
from workloads.transformer.args import PRESETS
from workloads.transformer.base import LlmWorkload
from workloads.transformer.clock import TokenClock, device_scope
from workloads.transformer.common import VERIFY_TOKENS, decode_bytes_per_step
from workloads.transformer.decode import LlmDecodeWorkload
from workloads.transformer.model import Transformer
from workloads.transformer.prefill import LlmPrefillWorkload
from workloads.transformer.roofline import gpu_peaks, peaks
from workloads.transformer.serve import LlmServeWorkload

SMALL = {"batch": "2", "prompt_len": "8", "max_new_tokens": "6"}


def _no_set_device(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("set_device changes the process's current device")

    monkeypatch.setattr(torch.cuda, "set_device", refuse)


def test_token_clock_records_on_the_workload_devices_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    class Event:
        def __init__(self, enable_timing: bool) -> None:
            self.stream: object = None

        def record(self, stream: object = None) -> None:
            self.stream = stream

    _no_set_device(monkeypatch)
    monkeypatch.setattr(torch.cuda, "Event", Event)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: ("stream of", device))
    c = TokenClock("cuda:1")
    c.restart()
    c.stamp()
    assert [m.stream for m in c.marks] == [("stream of", torch.device("cuda:1"))] * 2


def test_device_scope_makes_the_device_current_without_set_device(monkeypatch: pytest.MonkeyPatch) -> None:
    entered: list[torch.device] = []

    @contextlib.contextmanager
    def cuda_device(dev: torch.device) -> Iterator[None]:
        entered.append(dev)
        yield

    _no_set_device(monkeypatch)
    monkeypatch.setattr(torch.cuda, "device", cuda_device)
    with device_scope("cuda:1"):
        assert not torch.is_grad_enabled()
    with device_scope("cpu"):
        pass
    assert entered == [torch.device("cuda:1")]


@pytest.mark.parametrize("cls", [LlmDecodeWorkload, LlmPrefillWorkload, LlmServeWorkload])
def test_every_forward_runs_inside_the_device_scope(monkeypatch: pytest.MonkeyPatch, cls: type[LlmWorkload]) -> None:
    depth = [0]
    real_scope, real_forward = clock.device_scope, Transformer.forward

    @contextlib.contextmanager
    def scope(device: str) -> Iterator[None]:
        depth[0] += 1
        with real_scope(device):
            yield
        depth[0] -= 1

    def forward(self: Transformer, *args: Any, **kwargs: Any) -> torch.Tensor:
        assert depth[0] > 0, "model work outside torch.cuda.device(<the workload's device>)"
        return real_forward(self, *args, **kwargs)

    for module in (base, decode, prefill, serve):
        monkeypatch.setattr(module, "device_scope", scope)
    monkeypatch.setattr(Transformer, "forward", forward)
    w = cls()
    w.setup("cpu", w.params_for("ci", {k: v for k, v in SMALL.items() if k in w.presets["ci"]}))
    w.verify()
    w.step()
    w.teardown()


@pytest.mark.parametrize("cls", [LlmDecodeWorkload, LlmServeWorkload])
def test_decode_loop_makes_no_host_tensor_and_advances_the_position_in_place(
        monkeypatch: pytest.MonkeyPatch, cls: type[LlmWorkload]) -> None:
    w = cls()
    w.setup("cpu", w.params_for("ci", {**SMALL, "max_new_tokens": "20"}))
    w.verify()
    pos = w.input_pos
    made: list[str] = []
    real_tensor = torch.tensor

    def tensor(*args: Any, **kwargs: Any) -> torch.Tensor:
        made.append("tensor")
        return real_tensor(*args, **kwargs)

    monkeypatch.setattr(torch, "tensor", tensor)
    monkeypatch.setattr(torch.Tensor, "item", lambda self: made.append("item"))
    monkeypatch.setattr(torch.Tensor, "tolist", lambda self: made.append("tolist"))
    w.step()
    assert made == [], "a host tensor or a device read in the token loop is a sync per token"
    assert w.input_pos is pos and w.input_pos.device == w.prompt.device
    assert int(pos[0]) == (8 + (w.p.step_tokens if cls is LlmDecodeWorkload else 19))


def _fake_compile(fail_at: int | None = None) -> tuple[Callable[..., Any], list[int]]:
    calls: list[int] = []

    def compile_(fn: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
        assert kwargs == {"mode": "reduce-overhead", "fullgraph": True}

        def run(*args: Any) -> Any:
            calls.append(1)
            if fail_at is not None and len(calls) >= fail_at:
                raise RuntimeError("inductor: no working C++ compiler\nlong log")
            return fn(*args)

        return run

    return compile_, calls


def test_compiles_and_replays_in_setup_and_verifies_the_compiled_step(monkeypatch: pytest.MonkeyPatch) -> None:
    fake, calls = _fake_compile()
    resets: list[int] = []
    monkeypatch.setattr(compiled, "COMPILE_DEVICES", ("cuda", "cpu"))
    monkeypatch.setattr(torch, "compile", fake)
    monkeypatch.setattr(torch._dynamo, "reset", lambda: resets.append(1))
    w = LlmDecodeWorkload()
    w.setup("cpu", w.params_for("ci", SMALL))
    assert len(calls) == compiled.WARM_CALLS, "compile and graph replays belong to setup, not the warm-up"
    w.verify()
    assert len(calls) == compiled.WARM_CALLS + VERIFY_TOKENS, "verification runs the compiled step"
    w.reset_metrics()
    w.step()
    assert w.metrics()["code_path"] == compiled.INDUCTOR
    w.teardown()
    assert resets == [1], "teardown drops compiled code and CUDA graphs"


def test_compile_failure_in_setup_is_reported_not_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    fake, calls = _fake_compile(fail_at=1)
    monkeypatch.setattr(compiled, "COMPILE_DEVICES", ("cuda", "cpu"))
    monkeypatch.setattr(torch, "compile", fake)
    w = LlmServeWorkload()
    w.setup("cpu", w.params_for("ci", SMALL))
    w.verify()
    w.step()
    assert len(calls) == 1
    assert w.metrics()["code_path"] == "eager (compile failed: RuntimeError: inductor: no working C++ compiler); " \
                                       "prefill eager"


def test_a_compiled_step_failing_after_setup_is_not_swapped_for_eager(monkeypatch: pytest.MonkeyPatch) -> None:
    fake, _ = _fake_compile(fail_at=compiled.WARM_CALLS + 1)
    monkeypatch.setattr(compiled, "COMPILE_DEVICES", ("cuda", "cpu"))
    monkeypatch.setattr(torch, "compile", fake)
    w = LlmDecodeWorkload()
    w.setup("cpu", w.params_for("ci", SMALL))
    with pytest.raises(RuntimeError, match="no working C"):
        w.verify()


@pytest.mark.skipif(not os.environ.get("SITEBENCH_COMPILE_TESTS"), reason="real inductor compile, ~30 s")
def test_real_compile_on_cpu_verifies_and_runs() -> None:
    compiled.COMPILE_DEVICES = ("cuda", "cpu")
    try:
        w = LlmDecodeWorkload()
        w.setup("cpu", w.params_for("ci", SMALL))
        w.verify()
        w.step()
        assert w.metrics()["code_path"] == compiled.INDUCTOR
        w.teardown()
    finally:
        compiled.COMPILE_DEVICES = ("cuda",)


@pytest.mark.parametrize(("name", "bandwidth"), [
    ("NVIDIA H100 80GB HBM3", 3.35e12), ("NVIDIA H100 PCIe", 2.0e12), ("NVIDIA H200", 4.8e12),
    ("NVIDIA A100-SXM4-80GB", 2.039e12), ("NVIDIA A100-SXM4-40GB", 1.555e12), ("NVIDIA A100-PCIE-40GB", 1.555e12),
    ("nvidia  l40s ", 0.864e12), (b"NVIDIA GeForce RTX 4090", 1.008e12),
    ("NVIDIA H100 NVL", None), ("NVIDIA GH200 480GB", None), ("NVIDIA H200 NVL", None), ("NVIDIA A100 80GB PCIe", None),
    ("NVIDIA H100", None), ("Tesla V100-SXM2-16GB", None),
])
def test_gpu_peaks_by_exact_name(name: str | bytes, bandwidth: float | None) -> None:
    figures = gpu_peaks(name, torch.bfloat16)
    assert (figures.bytes_per_s if figures else None) == (pytest.approx(bandwidth) if bandwidth else None)


def test_matrix_peak_is_the_dtypes(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[torch.device] = []

    def name(dev: torch.device) -> str:
        asked.append(dev)
        return "NVIDIA H100 80GB HBM3"

    monkeypatch.setattr(torch.cuda, "get_device_name", name)
    peaks.cache_clear()
    try:
        assert peaks("cuda:1", torch.bfloat16) == (3.35e12, 989e12)
        assert peaks("cuda:1", torch.float16) == (3.35e12, 989e12)
        assert peaks("cuda:1", torch.float32) == (3.35e12, None), "no fp32/tf32 figure: no MFU, not the bf16 one"
        assert asked == [torch.device("cuda:1")] * 3
        w = LlmPrefillWorkload()
        w.setup("cpu", w.params_for("ci", {"batch": "1", "prompt_len": "8"}))
        assert w.ceiling("cuda:1") is None
        w.dtype = torch.bfloat16
        assert w.ceiling("cuda:1") == pytest.approx(989e12 / w.flops_per_token())
        w.teardown()
    finally:
        peaks.cache_clear()


@pytest.mark.parametrize("preset", ["llama-3.1-8b", "llama-3.2-1b"])
def test_decode_bytes_read_embedding_rows_not_the_table(preset: str) -> None:
    args = PRESETS[preset]
    with torch.device("meta"):
        model = Transformer(args).to(torch.bfloat16)
    table = args.vocab_size * args.dim * 2
    all_weights = sum(p.numel() * 2 for p in model.parameters())
    kv = 2 * args.n_layers * 4 * args.n_kv_heads * 100 * args.head_dim * 2
    got = decode_bytes_per_step(model, 4, 100)
    if args.tie_embeddings:  # the one table is the output projection, read whole; rows re-read at the start
        assert all_weights == 2 * 1_235_814_400
        assert got == all_weights + 4 * args.dim * 2 + kv
    else:
        assert got == all_weights - table + 4 * args.dim * 2 + kv
        assert (all_weights + kv) / got == pytest.approx(1.065, abs=0.005), "the old count was 6.5% high at 8B"
