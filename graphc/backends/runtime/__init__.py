"""The kernels generated modules call: ``cpu`` (row kernels for structured ops), ``cpu_math`` (vectorizable float32
exp/tanh/sigmoid), ``packed`` (products by a loop's weight, packed once before the loop), ``cuda`` (GPU kernels and
their launchers, imported only by CUDA modules), and ``jit`` (``njit`` with the self-healing disk cache that CPU
kernels compile through)."""
