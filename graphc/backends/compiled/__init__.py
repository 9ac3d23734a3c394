"""Compiled functions: an optimized graph as a native function with the contract of ``evaluate``, one class per
backend in ``BACKENDS``, and the disk cache of their generated modules (``cache``). Only a CUDA function's launch
loads numba-cuda, so the CPU path never does."""

from __future__ import annotations

from ...errors import GraphcError
from .cpu import Compiled, Specialization, as_argument, on_device, to_host
from .cuda import CudaCompiled

BACKENDS: dict[str, type[Compiled]] = {"cpu": Compiled, "cuda": CudaCompiled}


def compiled(outputs, writes: dict | None = None, *, optimize: bool = True, backend: str = "cpu") -> Compiled:
    """``outputs`` compiled for ``backend``; ``writes`` maps parameter names to values written into them in place."""
    if backend not in BACKENDS:
        raise GraphcError(f"unknown backend {backend!r}; available: {', '.join(BACKENDS)}")
    return BACKENDS[backend](outputs, writes, optimize=optimize)


def compile(outputs, backend: str = "cpu", *, optimize: bool = True) -> Compiled:  # noqa: A001 - the public name
    """Compile ``outputs`` (a tensor or a list) into a native function with the contract of ``evaluate``:
    ``backend="cpu"`` (Numba) or ``"cuda"`` (numba-cuda, an NVIDIA GPU)."""
    return compiled(outputs, optimize=optimize, backend=backend)
