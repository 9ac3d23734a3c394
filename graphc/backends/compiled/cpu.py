"""``Compiled``: an optimized graph as a native CPU function with the contract of ``evaluate``; the CUDA one
(``cuda.py``) overrides what a device does its own way.

A compiled function's program is specialized per dtypes only: named dimensions (batch, time) and the graph's fixed
sizes (a hidden width, ``lowering.fixed_sizes``) are arguments of the generated code, so the first call lowers,
generates and compiles it (or loads it from the disk cache, or finds it loaded for a graph of the same structure
with other sizes), and a call with another binding only allocates that binding's workspace buffers. (A backend with
``symbolic_shapes = False`` generates a program per binding instead.)
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

import numpy as np

from ...errors import GraphcError
from ...ir import Graph, feed_nodes, structural_key
from ...ops.linalg import MatMul
from ...passes import optimize as run_optimizer
from ...tensor import Tensor, node_of
from ...types import resolve_shape
from ..codegen.cpu import generate
from ..codegen.program import threaded_products, threads_requested
from ..lowering import ALIGNMENT, fixed_sizes, lower
from ..reference import bind_feeds, index_error, index_source
from ..runtime.packed import THREADS, splits, usable_threads
from . import cache


def aligned_empty(size: int, dtype: str) -> np.ndarray:
    """An uninitialized array of ``size`` elements whose data starts ``ALIGNMENT`` bytes aligned."""
    itemsize = np.dtype(dtype).itemsize
    raw = np.empty(size + ALIGNMENT // itemsize, dtype)
    skip = (-raw.ctypes.data % ALIGNMENT) // itemsize
    return raw[skip:skip + size]


@dataclass
class Specialization:
    module: object
    source: str
    feeds: list[str]
    constants: list[np.ndarray]
    workspace: list[np.ndarray]
    dimensions: list[int]  # the sizes of the named dimensions, in the order the program takes them
    scalar_outputs: list[bool]
    workspace_bytes: int
    binding: dict  # named dimension -> size
    checked: list  # the nodes whose indices the program checks (Lowered.checked)
    status: object  # where the program reports an index out of range (runtime.out_of_range); -1: none
    threads: object  # what a call runs inside: BLAS on one thread where the program splits products itself


class Compiled:
    """A graph compiled for the CPU; call it like ``evaluate``: ``fn(feeds)`` -> array(s).

    Parameters named in ``writes`` are updated in place in the caller's arrays. With ``keep_previous`` set, the
    values they had before the latest call are kept, and ``rollback()`` puts them back."""

    backend = "cpu"
    symbolic_shapes = True  # one program for every binding of the named dimensions

    def __init__(self, outputs, writes: dict | None = None, *, optimize: bool = True):
        self.single = not isinstance(outputs, (list, tuple))
        results = [node_of(o) for o in ([outputs] if self.single else outputs)]
        self.write_names = list((writes or {}).keys())
        everything = results + [node_of(v) for v in (writes or {}).values()]
        optimized = run_optimizer([Tensor(n) for n in everything]) if optimize else [Tensor(n) for n in everything]
        self.graph = Graph(t.node for t in optimized)
        self.results = len(results)
        # Fixed sizes stay literal where threads are requested: whether a loop is split between threads is decided
        # by its size when the code is generated.
        self.fixed = fixed_sizes(self.graph) if self.symbolic_shapes and not threads_requested() else {}
        self.graph_key = structural_key(self.graph, self.fixed)
        self.feed_names = list(feed_nodes(self.graph))
        self.by_signature: dict[tuple, Specialization] = {}
        self.specializations: dict[tuple, Specialization] = {}  # by (binding, dtypes): no hashing per call
        self.programs: dict[str, tuple] = {}  # cache key -> (module, source, lowered): one per dtypes
        self.source = ""
        self.keep_previous = False
        self.previous: dict[str, tuple] = {}  # write name -> (where it lives, its value before the latest call)
        self.resident_outputs: set[int] = set()  # results a device backend returns as device arrays

    # --- what a backend does its own way ----------------------------------------------------------------------------
    def generator(self):
        return generate

    def threads(self, lowered, binding: dict):
        """What a call at this binding runs inside. Where one of the program's products is large enough for the
        runtime to split it between graphc's threads (``splits``, the kernels' own rule), BLAS runs on one thread,
        so that its threads and graphc's do not fight for the cores (``runtime/blas.py``)."""
        if not (threaded_products() and splits.py_func(largest_product(lowered, binding), THREADS)):
            return contextlib.nullcontext()
        from ..runtime.blas import OneBlasThread

        return OneBlasThread()

    def place(self, array: np.ndarray):
        """An array as the compiled code takes it (constants, workspace buffers)."""
        return array

    def workspace(self, lowered, binding: dict) -> list[np.ndarray]:
        """The workspace as the program takes it (``Emitter.workspace``): one array per dtype, its start aligned as
        its buffers' starts are, and the buffers' starts."""
        sizes, starts = lowered.workspace_layout(binding)
        return [aligned_empty(sizes[dtype], dtype) for dtype in lowered.workspace_dtypes()] + [
            np.array(starts, np.int64)]

    def launch(self, specialization: Specialization, feeds: dict, seed: int) -> list[np.ndarray]:
        arguments = [as_argument(feeds[name]) for name in specialization.feeds]
        if self.keep_previous:
            self.previous = {name: (feeds[name], feeds[name].copy()) for name in self.write_names}
        try:
            with specialization.threads:
                return specialization.module.run(*arguments, *specialization.constants, *specialization.workspace,
                                                 *specialization.dimensions, seed, specialization.status,
                                                 usable_threads())
        except IndexError:
            self.raise_reported_index(specialization, specialization.status, feeds)
            raise

    def no_index_reported(self):
        """A status array saying that no index was out of range (``runtime.out_of_range`` fills one in)."""
        return self.place(np.full(4, -1, np.int64))

    def raise_reported_index(self, specialization: Specialization, status: np.ndarray, feeds: dict) -> None:
        """Raise IndexRangeError if the program reported an index out of range in ``status`` (and reset it)."""
        check, position, value, bound = (int(s) for s in status)
        if check < 0:
            return
        specialization.status = self.no_index_reported()
        node = specialization.checked[check]
        source = index_source(node)
        origin = feeds.get(source.attr("name")) if source.op.fed else None
        shape = resolve_shape(node.inputs[node.op.indices].type.shape, specialization.binding)
        raise index_error(node, bound, shape, position, value, None if origin is None else to_host(origin))

    def rollback(self) -> None:
        """Put every written parameter back to its value before the latest call (needs ``keep_previous``)."""
        for target, value in self.previous.values():
            target[...] = value

    def synchronize(self) -> None:
        """Make the caller's parameter arrays current (a device backend keeps its own copies while training)."""

    def invalidate(self) -> None:
        """The caller changed parameter arrays in place: a device backend must copy them again."""

    # --- specializations ----------------------------------------------------------------------------------------
    def _specialize(self, binding: dict, dtypes: tuple) -> Specialization:
        local = (tuple(sorted((str(k), v) for k, v in binding.items())), dtypes)
        if local in self.specializations:
            return self.specializations[local]
        literal = {} if self.symbolic_shapes else binding
        key = cache.specialization_key(self.graph_key, literal, dtypes, extra=f"{self.write_names} {self.backend}")
        if key not in self.programs:
            lowered = lower(self.graph, None if self.symbolic_shapes else binding, fixed=self.fixed)
            writes = dict(zip(self.write_names, self.graph.outputs[self.results:]))
            module, source = cache.load(key, lambda: self.generator()(lowered, key, writes))
            self.programs[key] = (module, source, lowered)
            if os.environ.get("GRAPHC_DEBUG"):
                print(source, file=sys.stderr)
        module, source, lowered = self.programs[key]
        binding = {**binding, **{symbol: size for size, symbol in self.fixed.items()}}
        # Writable copies: the IR's constants are read-only, and Numba types a read-only array as a type of its own,
        # so a function called with a constant and with a buffer would be compiled twice.
        constants = [self.place(np.array(n.attr("value").array, order="C").reshape(
            resolve_shape(lowered.shapes[n], binding))) for n in lowered.constants]
        buffers = lowered.workspace_shapes(binding)
        workspace = self.workspace(lowered, binding)
        dimensions = [int(binding[d]) for d in lowered.dimensions]
        scalars = [o.type.shape == () for o in self.graph.outputs[: self.results]]
        specialization = Specialization(module, source, list(module.FEEDS), constants, workspace, dimensions,
                                        scalars, sum(int(np.prod(s)) * np.dtype(d).itemsize for s, d in buffers),
                                        dict(binding), lowered.checked, self.no_index_reported(),
                                        self.threads(lowered, binding))
        self.specializations[local] = specialization
        self.source = source
        return specialization

    def __call__(self, feeds: dict, seed: int = 0):
        # Fast path: feeds shaped and typed as in an earlier, validated call need no validation again.
        signature = self._signature(feeds)
        specialization = self.by_signature.get(signature) if signature is not None else None
        validated = specialization is None
        if validated:  # validate, and take the feeds as converted to their declared dtypes
            specialization, feeds = self._validate({name: to_host(value) for name, value in feeds.items()})
            if signature is not None:
                self.by_signature[signature] = specialization
        returned = self.launch(specialization, feeds, seed)
        results = [r.reshape(()) if scalar else r for r, scalar in zip(returned, specialization.scalar_outputs)]
        return results[0] if self.single else results

    def _signature(self, feeds: dict):
        """Shapes, dtypes and layouts of the feeds, or None when a feed is not a NumPy array (or, for a device
        backend, a device array it returned)."""
        signature = []
        for name in self.feed_names:
            value = feeds.get(name)
            if self.backend != "cpu" and on_device(value):
                signature.append((value.shape, value.dtype.char, True))
                continue
            if not isinstance(value, np.ndarray):
                return None
            signature.append((value.shape, value.dtype.char, value.flags.c_contiguous and value.flags.writeable))
        return tuple(signature)

    def _validate(self, feeds: dict) -> tuple[Specialization, dict]:
        values, bindings = bind_feeds(self.graph, feeds)
        by_name = {node.attr("name"): value for node, value in values.items()}
        # Parameters updated in place must be the caller's own arrays (contiguous, so the update reaches them).
        for name in self.write_names:
            if not (isinstance(feeds[name], np.ndarray) and feeds[name].flags.c_contiguous
                    and feeds[name].flags.writeable):
                raise GraphcError(f"parameter {name!r} must be a writable, contiguous NumPy array to be updated "
                                  "in place")
            by_name[name] = feeds[name]
        dtypes = tuple(str(v.dtype) for v in by_name.values())
        return self._specialize(bindings, dtypes), by_name

    def workspace_bytes(self) -> int:
        """Bytes of intermediate buffers planned for the most recently compiled shape binding."""
        return next(reversed(self.specializations.values())).workspace_bytes if self.specializations else 0


def largest_product(lowered, binding: dict) -> int:
    """The most multiply-adds of one matrix-product call (one matrix of a batch) in the program, loops included."""
    largest = 0
    for node in lowered.steps:
        if isinstance(node.op, MatMul):
            *_, m, k = resolve_shape(node.inputs[0].type.shape, binding)
            largest = max(largest, int(m) * int(k) * int(resolve_shape(node.type.shape, binding)[-1]))
    return max([largest, *(largest_product(body, binding) for body in lowered.bodies.values())])


def on_device(value) -> bool:
    """Whether ``value`` is a device array (numba-cuda's, or its simulator's)."""
    return hasattr(value, "copy_to_host")


def to_host(value):
    """A NumPy array of ``value``, copied from the device when it lives there."""
    return value.copy_to_host() if on_device(value) else value


def as_argument(value):
    """A feed as compiled code takes it: a contiguous array, scalars as shape (1,). In-place parameters are
    validated as contiguous, so for them this is a view of the caller's array."""
    array = np.ascontiguousarray(value)
    return array.reshape(1) if array.ndim == 0 else array
