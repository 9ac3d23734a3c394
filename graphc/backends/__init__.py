"""Evaluating graphs: ``reference`` (the NumPy interpreter, the oracle), ``lowering`` (schedule and memory plan),
``codegen`` (the CPU and CUDA code generators), ``runtime`` (the kernels generated code calls) and ``compiled``
(the compiled-function objects, by backend name, and their disk cache)."""
