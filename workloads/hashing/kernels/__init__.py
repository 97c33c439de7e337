"""The SHA-256 kernels, on top of :mod:`~workloads.hashing.host` and :mod:`~workloads.hashing.spec`.

:mod:`~workloads.hashing.kernels.cpu` (LLVM IR compiled by llvmlite for this CPU, the numba
fallback, the batch kernels' race) and :mod:`~workloads.hashing.kernels.gpu` (Triton), which do
not import each other.
"""
