"""``llm-serve``: a batch of requests end to end, prefill then greedy decode."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from bench.stats import percentiles
from bench.workload import synchronize
from workloads.transformer.base import LlmWorkload
from workloads.transformer.clock import device_scope
from workloads.transformer.common import VERIFY_TOKENS
from workloads.transformer.generate import decode_n_tokens, prefill
from workloads.transformer.verify import check_decode, check_prefill

_BASE = {"model": "tiny", "seed": 0, "dtype": "auto", "checkpoint": "", "compile": True}


class LlmServeWorkload(LlmWorkload):
    """A batch of requests end to end: prefill then ``max_new_tokens`` greedy tokens (the first from prefill)."""

    name = "llm-serve"
    description = "Llama-class serving: a batch of requests, prefill plus decode, end to end"
    presets: ClassVar[dict[str, dict[str, Any]]] = {"ci": {**_BASE, "batch": 4, "prompt_len": 32, "max_new_tokens": 32},
               "full": {**_BASE, "model": "auto", "batch": 8, "prompt_len": 256, "max_new_tokens": 256}}

    def ready(self) -> None:
        self.input_pos = torch.tensor([self.p.prompt_len], device=self.device)
        token, _ = prefill(self.model, self.prompt)
        self.decoder.warm(token, self.input_pos)

    def step(self) -> int:
        """Prefill then decode; per-token stamps, one host wait at the end of the request batch."""
        with device_scope(self.device):
            self.clock.restart()
            token, _ = prefill(self.model, self.prompt)
            self.input_pos.fill_(self.p.prompt_len)
            self.clock.stamp()
            decode_n_tokens(self.decoder.fn, token, self.input_pos, self.p.max_new_tokens - 1, self.clock.stamp)
            synchronize(self.device)
            intervals = self.clock.intervals()
        self.ttft.append(intervals[0])
        self.e2e.append(sum(intervals))
        self.itl.extend(intervals[1:])
        return self.p.batch * self.p.max_new_tokens

    def reset_metrics(self) -> None:
        self.ttft: list[float] = []
        self.e2e: list[float] = []
        self.itl: list[float] = []

    def metrics(self) -> dict[str, Any]:
        if not self.e2e:
            return {}
        e2e = percentiles(self.e2e, (50, 99))
        out: dict[str, Any] = {
            "ttft_ms": (percentiles(self.ttft, (50,))["p50"] or 0.0) * 1e3,
            "e2e_latency_ms": (e2e["p50"] or 0.0) * 1e3,
            "e2e_latency_p99_ms": (e2e["p99"] or 0.0) * 1e3,
            "prefill_tok_s": self.p.batch * self.p.prompt_len * len(self.ttft) / sum(self.ttft),
            "batch": self.p.batch,
            "code_path": f"{self.code_path}; prefill eager",
        }
        if self.itl:
            tpot = sum(self.itl) / len(self.itl)
            itl = percentiles(self.itl, (50, 90, 99))
            out.update(decode_tok_s=self.p.batch / tpot, tpot_ms=tpot * 1e3,
                       **{f"itl_{k}_ms": v * 1e3 for k, v in itl.items() if v is not None})
        return out

    def verify(self) -> None:
        """Batched prefill against each sequence alone, then decode through the timed step against recomputation."""
        with device_scope(self.device):
            check_prefill(self.model, self.prompt)
            check_decode(self.model, self.decoder.fn, self.prompt, min(VERIFY_TOKENS, self.p.max_new_tokens))
