"""The kernels generated modules call: ``cpu`` (row kernels for structured ops), ``cpu_math`` (vectorizable float32
exp/tanh/sigmoid), ``cuda`` (GPU kernels and their launchers, imported only by CUDA modules)."""
