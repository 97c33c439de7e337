"""SHA-256 workloads: batch hashing and Bitcoin double SHA-256 mining.

Layers, top down (imports only go down): the workloads :mod:`~workloads.hashing.sha256` and
:mod:`~workloads.hashing.sha256d`; their shared pieces :mod:`~workloads.hashing.ceiling`,
:mod:`~workloads.hashing.params`, :mod:`~workloads.hashing.target` and
:mod:`~workloads.hashing.vectors`; the kernels (:mod:`~workloads.hashing.kernels`: ``cpu`` and
``gpu``); at the bottom the host probe (:mod:`~workloads.hashing.host`) and SHA-256 itself
(:mod:`~workloads.hashing.spec`).
"""
