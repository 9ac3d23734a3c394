"""Imported first by every benchmark, before NumPy loads: every peer gets the same 2 threads (OpenMP, OpenBLAS,
MKL, Numba) and JAX one host device."""

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(variable, "2")
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
