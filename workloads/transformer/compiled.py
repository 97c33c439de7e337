"""The one-token decode step a workload times: compiled (CUDA graphs) or eager, and which one it is.

Compilation happens in setup, not in the warm-up: :meth:`DecodeStep.warm`
compiles, records the CUDA graph and replays it a few times. A compile that
fails there falls back to eager with the reason in :attr:`DecodeStep.code_path`;
nothing falls back later, so the path that verification runs is the path that
is timed.
"""

from __future__ import annotations

import torch
from torch import Tensor

from workloads.transformer.generate import StepFn, decode_n_tokens, step_of
from workloads.transformer.model import Transformer

#: Device kinds on which ``compile=True`` compiles the step (tests add "cpu").
COMPILE_DEVICES: tuple[str, ...] = ("cuda",)
#: Calls in :meth:`DecodeStep.warm`: compile, CUDA-graph warm-up, record, then replays.
WARM_CALLS = 5

CUDA_GRAPHS = "cuda graphs (torch.compile reduce-overhead)"
INDUCTOR = "inductor (torch.compile reduce-overhead, no cuda graphs off cuda)"
EAGER = "eager"


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    return f"{type(exc).__name__}: {first}"[:200]


class DecodeStep:
    """The step function of one model on one device; :attr:`code_path` says what produced the figures."""

    def __init__(self, model: Transformer, device: str, compile: bool) -> None:
        self.kind = torch.device(device).type
        self.eager: StepFn = step_of(model)
        self.fn: StepFn = self.eager
        self.code_path = EAGER
        self.compiled = False
        if compile and self.kind in COMPILE_DEVICES:
            self.fn = torch.compile(self.eager, mode="reduce-overhead", fullgraph=True)
            self.code_path = CUDA_GRAPHS if self.kind == "cuda" else INDUCTOR
            self.compiled = True

    def warm(self, token: Tensor, input_pos: Tensor) -> None:
        """Compile and replay the step :data:`WARM_CALLS` times at ``input_pos`` (left unchanged).

        The step writes the cache at that position only; a later prefill makes
        it unused. A failure to compile or run compiled code switches to eager here.
        """
        if not self.compiled:
            return
        try:
            for _ in range(WARM_CALLS):
                decode_n_tokens(self.fn, token, input_pos.clone(), 1)
            if self.kind == "cuda":
                torch.cuda.synchronize(input_pos.device)
        except Exception as exc:  # noqa: BLE001  # no compiler, an op inductor cannot lower, a graph break
            self.fallback(exc)

    def fallback(self, exc: BaseException) -> None:
        """Use the eager step from now on, recording why."""
        self.release()
        self.fn = self.eager
        self.code_path = f"eager (compile failed: {_reason(exc)})"

    def release(self) -> None:
        """Drop compiled code and CUDA graphs (they hold the model's weights and static buffers)."""
        if self.compiled:
            self.compiled = False
            self.fn = self.eager
            torch._dynamo.reset()
