"""The CUDA backend's compiled function: feeds copied to the GPU, results copied back, and the parameters it updates
(a training step's parameters and optimizer slots) kept on the GPU between calls.

A parameter array is copied to the device the first time it is fed (or when the caller feeds another array under
its name) and stays there: each step updates the device copy in place, and the caller's array is brought up to date
only by ``synchronize()``. The trainer synchronizes before it reads parameters (evaluation, checkpoints, the end of
training) and calls ``invalidate()`` after it writes them. Results named in ``resident_outputs`` (a recurrent net's
final state, fed back at the next window) are returned as device arrays and taken back as they are.
"""

from __future__ import annotations

import contextlib
import importlib.util

import numpy as np

from ...errors import GraphcError
from ..codegen.cuda import generate
from .cpu import Compiled, Specialization, as_argument, on_device

INSTALL = "pip install 'graphc[cuda]' (or: pip install numba-cuda)"


def require_cuda():
    """``numba.cuda``, or a GraphcError saying what is missing and how to get it."""
    if importlib.util.find_spec("numba_cuda") is None:
        raise GraphcError(f"the cuda backend needs numba-cuda, which is not installed: {INSTALL}")
    from numba import cuda

    if not cuda.is_available():
        raise GraphcError("the cuda backend found no usable NVIDIA GPU (no device, or no CUDA driver); "
                          "to run the CUDA code on the CPU for testing (slowly), set NUMBA_ENABLE_CUDASIM=1")
    return cuda


class CudaCompiled(Compiled):
    """A graph compiled for an NVIDIA GPU with numba-cuda, with the contract of ``Compiled``."""

    backend = "cuda"
    symbolic_shapes = False  # kernels are written for their element counts (a program per binding)

    def __init__(self, outputs, writes: dict | None = None, *, optimize: bool = True):
        self.cuda = require_cuda()
        super().__init__(outputs, writes, optimize=optimize)
        self.mirrors: dict[str, tuple[np.ndarray, object]] = {}  # write name -> (the caller's array, its copy)

    def generator(self):
        return generate

    def threads(self, lowered, binding: dict):
        return contextlib.nullcontext()  # the GPU's

    def place(self, array: np.ndarray):
        return self.cuda.to_device(array)

    def workspace(self, lowered, binding: dict) -> list:
        return [self.place(np.empty(shape, dtype)) for shape, dtype in lowered.workspace_shapes(binding)]

    def launch(self, specialization: Specialization, feeds: dict, seed: int) -> list[np.ndarray]:
        from ..runtime import cuda as runtime

        writes = set(self.write_names)
        arguments = [self._mirror(name, feeds[name]) if name in writes else self._upload(feeds[name])
                     for name in specialization.feeds]
        if self.keep_previous:  # into device buffers allocated once
            for name, (_, device) in self.mirrors.items():
                kept = self.previous.get(name)
                if kept is None or kept[0] is not device:
                    self.previous[name] = (device, runtime.duplicate(device))
                else:
                    runtime.copy(device, kept[1])
        returned = specialization.module.run(*arguments, *specialization.constants, *specialization.workspace,
                                             *specialization.dimensions, seed, specialization.status, 1)
        if specialization.checked:  # a device cannot raise: its kernels flag a bad index in ``status``
            self.raise_reported_index(specialization, specialization.status.copy_to_host(), feeds)
        return [value if index in self.resident_outputs else value.copy_to_host()
                for index, value in enumerate(returned)]

    def _upload(self, value):
        """A feed on the device: a device array (a result returned resident, fed back) is taken as it is."""
        return value if on_device(value) else self.cuda.to_device(as_argument(value))

    def _mirror(self, name: str, array: np.ndarray):
        held = self.mirrors.get(name)
        if held is None or held[0] is not array:
            held = self.mirrors[name] = (array, self.cuda.to_device(array))
        return held[1]

    def rollback(self) -> None:
        from ..runtime import cuda as runtime

        for device, value in self.previous.values():
            runtime.copy(value, device)
        self.synchronize()

    def synchronize(self) -> None:
        for array, device in self.mirrors.values():
            device.copy_to_host(array)

    def invalidate(self) -> None:
        self.mirrors.clear()
        self.previous.clear()
