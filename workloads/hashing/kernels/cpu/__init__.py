"""CPU kernels. Bottom up: the LLVM IR generators (:mod:`~workloads.hashing.kernels.cpu.simd_ir`
for sha256d; :mod:`~workloads.hashing.kernels.cpu.batch_ir` with
:mod:`~workloads.hashing.kernels.cpu.shani_ir` and :mod:`~workloads.hashing.kernels.cpu.simd_batch_ir`
for batch SHA-256), their compiled forms (:mod:`~workloads.hashing.kernels.cpu.kernel_simd`,
:mod:`~workloads.hashing.kernels.cpu.batch_cpu`, which also races them:
``python -m workloads.hashing.kernels.cpu.batch_cpu`` prints clocks per compression), the numba
scalar fallback (:mod:`~workloads.hashing.kernels.cpu.kernel_batch`) and the sha256d nonce scan
(:mod:`~workloads.hashing.kernels.cpu.kernel_cpu`).
"""
