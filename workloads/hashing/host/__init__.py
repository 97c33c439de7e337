"""The host probe: what this CPU can do, below every kernel and every ceiling.

:mod:`~workloads.hashing.host.cpu` (LLVM CPU name, feature flags: SHA-NI, AVX2, AVX-512; the
cores this process may use) and :mod:`~workloads.hashing.host.clock_probe` (the measured clock
and SHA instruction timings, ``python -m workloads.hashing.host.clock_probe``). Imports nothing
else from :mod:`workloads.hashing`.
"""
