"""Imported first by every benchmark, before NumPy loads: every peer gets the same 2 threads (OpenMP, OpenBLAS,
MKL, Numba) and JAX one host device; and OpenBLAS picks its kernels for this processor, as on a user's machine.

Some workplace machines set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for older OpenBLAS builds that crash or compute
wrong results on their processors. A current NumPy's OpenBLAS does not need them, and with them it runs slower
kernels (Haswell's instead of SkylakeX's on this AMD EPYC: float32 GEMM 1024^3 at 198 instead of 345 GFLOP/s, numpy
``a @ b``, median of 9, 2 threads, measured 2026-12-02), which handicaps
graphc, whose products go through NumPy's OpenBLAS, against peers that bring their own BLAS. So the benchmarks
unset both, in their own processes only (tests and CI keep them), and report which kernels ran.
"""

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(variable, "2")
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
UNSET = {name: os.environ.pop(name) for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if name in os.environ}
