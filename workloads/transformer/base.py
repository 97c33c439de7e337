"""What every llm-* workload does the same way: checked parameters, setup on the device, teardown."""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from bench.workload import Workload
from workloads.transformer.args import ModelArgs
from workloads.transformer.clock import TokenClock, device_scope
from workloads.transformer.common import build_model, resolve_model
from workloads.transformer.compiled import DecodeStep
from workloads.transformer.model import Transformer
from workloads.transformer.params import LlmParams, check_params

#: Instance attributes that hold device memory; teardown drops every one.
_HELD = ("model", "prompt", "decoder", "clock", "next_token", "input_pos")


class LlmWorkload(Workload):
    """Base of llm-decode, llm-prefill and llm-serve.

    All device work runs inside :func:`device_scope` of the workload's device
    (no ``set_device``); :meth:`teardown` drops the model, cache, compiled
    graphs and every tensor, so a sweep holds one point's model at a time.
    """

    unit = "token"
    devices = ("cpu", "cuda")
    #: Whether the workload times the one-token decode step (then compiled on CUDA when ``compile``).
    decodes: ClassVar[bool] = True

    device: str
    p: LlmParams
    args: ModelArgs
    dtype: torch.dtype
    model: Transformer
    prompt: torch.Tensor
    decoder: DecodeStep
    clock: TokenClock
    input_pos: torch.Tensor  # the decoding workloads' position, on the device

    def preflight(self, device: str, params: Mapping[str, Any]) -> None:
        resolve_model(device, check_params(self.name, params))

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        self.device = device
        self.p = check_params(self.name, params)
        self.args, self.dtype = resolve_model(device, self.p)
        with device_scope(device):
            self.model = build_model(device, self.p, self.dtype)
            gen = torch.Generator().manual_seed(self.p.seed)
            self.prompt = torch.randint(0, self.args.vocab_size, (self.p.batch, self.p.prompt_len),
                                        generator=gen).to(device)
            self.model.setup_caches(self.p.batch, self.p.seq)
            self.clock = TokenClock(device)
            self.decoder = DecodeStep(self.model, device, self.p.compile and self.decodes)
            self.ready()
        self.reset_metrics()

    def ready(self) -> None:
        """Subclass hook at the end of setup, inside the device scope: first prefill, compile and warm."""

    @property
    def code_path(self) -> str:
        """What produced the figures: ``"eager"``, the compiled path, or eager with why compiling failed."""
        return self.decoder.code_path if self.decodes else "eager"

    def teardown(self) -> None:
        """Drop the model, KV cache, compiled graphs and every tensor; return the memory."""
        decoder = self.__dict__.get("decoder")
        if decoder is not None:
            decoder.release()
        model = self.__dict__.get("model")
        if model is not None:
            model.drop_caches()
        for name in _HELD:
            self.__dict__.pop(name, None)
        del decoder, model
        gc.collect()
        if torch.device(self.__dict__.get("device", "cpu")).type == "cuda":
            with torch.cuda.device(torch.device(self.device)):
                torch.cuda.empty_cache()
