"""``llm-decode``: a batch of sequences generating tokens one step at a time from a KV cache."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from bench.stats import percentiles
from bench.workload import synchronize
from workloads.transformer.base import LlmWorkload
from workloads.transformer.clock import device_scope
from workloads.transformer.common import VERIFY_TOKENS, decode_bytes_per_step
from workloads.transformer.generate import decode_n_tokens, prefill
from workloads.transformer.roofline import peaks
from workloads.transformer.verify import check_decode


class LlmDecodeWorkload(LlmWorkload):
    """Greedy decode with a static KV cache.

    Each step emits ``step_tokens`` tokens for every sequence of the batch with
    no host synchronisation between tokens (the position stays on the device;
    per-token times come from CUDA events on a GPU), and waits for the device
    once at its end. A sequence that fills the cache starts again from a fresh
    prefill, whose time is a TTFT sample.
    """

    name = "llm-decode"
    default_suite = True
    description = "Llama-class decoder generating tokens from a static KV cache"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "ci": {"model": "tiny", "batch": 4, "prompt_len": 16, "max_new_tokens": 64, "seed": 0,
               "dtype": "auto", "checkpoint": "", "compile": True, "step_tokens": 8},
        "full": {"model": "auto", "batch": 8, "prompt_len": 128, "max_new_tokens": 128, "seed": 0,
                 "dtype": "auto", "checkpoint": "", "compile": True, "step_tokens": 8},
    }

    def ready(self) -> None:
        self.input_pos = torch.tensor([self.p.prompt_len], device=self.device)
        self._prefill()
        self.decoder.warm(self.next_token, self.input_pos)

    def _prefill(self) -> None:
        """Start the sequences again: prompt into the cache, position back to the prompt's end (on device)."""
        self.next_token, _ = prefill(self.model, self.prompt)
        self.input_pos.fill_(self.p.prompt_len)
        self.pos = self.p.prompt_len

    def verify(self) -> None:
        """Prefill and decode through the timed step (compiled where it is) against uncached recomputation."""
        with device_scope(self.device):
            check_decode(self.model, self.decoder.fn, self.prompt, min(VERIFY_TOKENS, self.p.max_new_tokens))
            self._prefill()

    def step(self) -> int:
        """Generate ``step_tokens`` tokens for every sequence, wrapping to a fresh prefill when the cache is full."""
        with device_scope(self.device):
            self.clock.restart()
            left, prefilled_at = self.p.step_tokens, None
            while left:
                if self.pos >= self.p.seq:
                    self._prefill()
                    self.clock.stamp()
                    prefilled_at = len(self.clock.marks) - 2
                n = min(left, self.p.seq - self.pos)
                tokens = decode_n_tokens(self.decoder.fn, self.next_token, self.input_pos, n, self.clock.stamp)
                self.next_token = tokens[-1]
                self.pos += n
                left -= n
            synchronize(self.device)  # the one wait of the step: a step is synchronous by contract
            intervals = self.clock.intervals()
        if prefilled_at is not None:
            self.ttft.append(intervals.pop(prefilled_at))
        self.itl.extend(intervals)
        return self.p.step_tokens * self.p.batch

    def reset_metrics(self) -> None:
        self.itl: list[float] = []
        self.ttft: list[float] = []

    def bytes_per_step(self) -> float:
        """Bytes one decode step reads: weights (embedding rows only) and the KV cache at the mean length."""
        return decode_bytes_per_step(self.model, self.p.batch, self.p.prompt_len + self.p.max_new_tokens / 2)

    def ceiling(self, device: str) -> float | None:
        """Tokens/s if every step only streamed weights and KV cache at peak bandwidth."""
        figures = peaks(device, self.dtype)
        return None if figures is None else self.p.batch * figures.bytes_per_s / self.bytes_per_step()

    def metrics(self) -> dict[str, Any]:
        if not self.itl:
            return {}
        tpot = sum(self.itl) / len(self.itl)
        ceiling = self.ceiling(self.device)
        itl = percentiles(self.itl, (50, 90, 99))
        ttft = percentiles(self.ttft, (50,))["p50"]
        return {
            "decode_tok_s": self.p.batch / tpot,
            "tpot_ms": tpot * 1e3,
            **{f"itl_{k}_ms": v * 1e3 for k, v in itl.items() if v is not None},
            "ttft_ms": ttft * 1e3 if ttft is not None else None,
            "mbu": self.p.batch / tpot / ceiling if ceiling else None,
            "batch": self.p.batch,
            "steps": len(self.itl),
            "code_path": self.code_path,
        }
