"""GPU kernels in Triton (they also run under ``TRITON_INTERPRET=1`` on CPU tensors, as the tests do):
sha256d (:mod:`~workloads.hashing.kernels.gpu.kernel_triton`, its nonce scan
:mod:`~workloads.hashing.kernels.gpu.scan_cuda`), batch SHA-256
(:mod:`~workloads.hashing.kernels.gpu.kernel_triton_batch`) and their SASS instruction counts
(``python -m workloads.hashing.kernels.gpu.sass_count``). Triton and torch load only when a module
here that needs them is imported.
"""
