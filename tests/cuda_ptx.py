"""Compile every CUDA kernel that a graph's generated module launches to PTX, without a GPU.

The CUDA simulator runs kernels as Python, so it cannot catch what only Numba's CUDA compiler rejects (typing,
unsupported functions). This script, run in a process without the simulator, calls a generated module's ``run``
over NumPy arrays with every kernel launch replaced by a record of its argument types, then compiles each
recorded kernel with ``numba.cuda.compile_ptx`` for a Hopper GPU (NVVM from the CUDA toolkit wheels; no driver).
Usage: python -m tests.cuda_ptx [ops] MODEL_FILE ... ("ops": the op table's program; a model file: its training
step with Adam and clipping); prints one line per kernel and exits 1 if any fails to compile.
"""

from __future__ import annotations

import sys
import types

import numba
import numpy as np
from numba import cuda
from numba.cuda import dispatcher

import graphc
from graphc import modelfile, optim
from graphc.backends.compiled import compiled
from graphc.backends.compiled import cuda as cuda_device
from graphc.backends.runtime import cuda as runtime
from graphc.train import zero_state

CAPABILITY = (9, 0)  # an H100
# Device functions are compiled for the current device, which there is none of: name the one to compile for.
dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=CAPABILITY)
cuda_device.require_cuda = lambda: cuda
cuda.to_device = lambda array, *args, **kwargs: np.array(array)
cuda.device_array = lambda shape, dtype=np.float64, *args, **kwargs: np.zeros(shape, dtype)
runtime.contiguous = np.ascontiguousarray
launches: dict[object, set] = {}


def record(kernel, configuration):
    """Stands for ``kernel[configuration]``: the launch records its argument types and runs nothing."""
    return lambda *arguments: launches.setdefault(kernel, set()).add(tuple(numba.typeof(a) for a in arguments))


dispatcher.CUDADispatcher.__getitem__ = record


def sample_feeds(path: str) -> tuple:
    """The model file's model and its first training batch (small: batch 3, windows of 4)."""
    module, where = modelfile.load_module(path)
    model = modelfile.build(module, where)
    options = {name: size for name, size in (("batch", 3), ("seq_len", 4)) if modelfile.accepts(module.dataset, name)}
    data = modelfile.dataset(module, where, options)
    state = zero_state(model, 3) if model.state else {}
    return model, {**graphc.init_params(model.params, 0), **next(iter(data.train.batches(0, 0))), **state}


def programs(paths: list[str]):
    """(compiled, feeds) to run: the op table's program for "ops", else a model file's Adam training step."""
    for path in paths:
        if path == "ops":
            from tests.test_cpu_backend import op_table_program

            outputs, feeds, _ = op_table_program()
            yield compiled(outputs, backend="cuda"), feeds
            continue
        model, feeds = sample_feeds(path)
        step = optim.TrainingStep(model.loss, model.params, optim.Adam(0.01, clip_norm=1.0), backend="cuda",
                                  gradient_norms=True)
        yield step.compiled, step.compiled_feeds(feeds)


def main(paths: list[str]) -> int:
    for function, feeds in programs(paths):
        specialization, named = function._validate(feeds)
        arrays = [np.asarray(named[n]).reshape(np.shape(named[n]) or (1,)) for n in specialization.feeds]
        specialization.module.run(*arrays, *specialization.constants, *specialization.workspace,
                                  *specialization.dimensions, 0, specialization.status, 1)
    failures = 0
    for kernel, signatures in launches.items():
        for signature in sorted(signatures, key=str):
            try:
                cuda.compile_ptx(kernel.py_func, signature, cc=CAPABILITY)
                print(f"ok    {kernel.py_func.__name__}{signature}")
            except Exception as error:  # noqa: BLE001 - report every kernel's failure, then fail
                failures += 1
                print(f"FAIL  {kernel.py_func.__name__}{signature}: {type(error).__name__}: {error}")
    print(f"{sum(map(len, launches.values()))} kernel signatures, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
