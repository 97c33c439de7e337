"""Device names: ``cpu``, ``cuda``, ``cuda:N``; checked before any work starts."""

from __future__ import annotations

import re

from bench.errors import UsageError

_DEVICE = re.compile(r"^(cpu|cuda)(?::(\d+))?$")


def resolve(device: str) -> str:
    """Check ``device`` exists here and return its canonical name.

    ``cuda`` becomes ``cuda:0``.

    Raises:
        UsageError: unknown device syntax, or a CUDA device that is not present.
    """
    m = _DEVICE.match(device)
    if not m:
        raise UsageError(f"--device {device!r}: expected cpu, cuda or cuda:N")
    kind, index = m.group(1), m.group(2)
    if kind == "cpu":
        if index is not None:
            raise UsageError(f"--device {device!r}: use plain 'cpu' (a CPU workload uses every core)")
        return "cpu"
    import torch

    if not torch.cuda.is_available():
        raise UsageError(f"--device {device}: no CUDA GPU is available on this machine")
    n = torch.cuda.device_count()
    i = int(index or 0)
    if i >= n:
        raise UsageError(f"--device {device}: only {n} CUDA device(s) present")
    return f"cuda:{i}"
