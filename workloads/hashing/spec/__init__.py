"""SHA-256 itself, below the kernels and the workloads: the constants and round functions in plain
integers with the host-side folding the kernels load (:mod:`~workloads.hashing.spec.sha256_consts`),
a numpy implementation (:mod:`~workloads.hashing.spec.sha256_numpy`) and the hashlib verdict every
kernel is checked against (:mod:`~workloads.hashing.spec.reference`). Imports nothing else from
:mod:`workloads.hashing`.
"""
