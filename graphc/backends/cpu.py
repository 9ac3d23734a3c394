"""The Numba CPU code generator: a lowered program printed as one Python module with one ``@njit`` entry point.

Every node becomes a commented line (or a loop nest, for an element-wise kernel) in ``run``, so one call pays one
Python-to-native transition. Element-wise kernels print their SymPy expressions as scalar code, common
subexpressions shared; matrix products go through BLAS (``np.dot``); structured ops call the row kernels of
``cpu_runtime`` on a 2-D view whose last axis is the op's axis. The CUDA generator (``cuda.py``) is this emitter
with the methods that make and move arrays, and loop over elements, overridden.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import sympy

from ..ir import Node
from ..ops.fused import input_symbol
from .cpu_scalar import ScalarPrinter, index_expression
from .lower import Lowered
from .program import loop, preamble, program

# Element-wise loops over at least this many elements use prange when GRAPHC_PARALLEL=1. Off by default: on the
# 2-core machines we measure on, Numba's worker threads contend with BLAS's; W2's step took 52 ms with prange
# against 11.5 ms without (docs/benchmarks.md says how it was measured).
PARALLEL_ELEMENTS = 1 << 15


@dataclass
class Kernel:
    """An element-wise kernel, printed: loop variables over ``space``, the arrays it writes, each input's array and
    index, the statements per element, and the value written to each target."""

    space: tuple
    loop: list[str]
    targets: list[str]
    reads: list[tuple[str, str]]
    statements: list[str]
    values: list[str]


class Emitter:
    """Prints the body of ``run`` for one lowered program."""

    product = "np.dot"  # the matrix product into a given result: BLAS
    printer = ScalarPrinter

    def __init__(self, lowered: Lowered):
        self.lowered = lowered
        # values written straight into an array of their own: parameter updates, a loop's per-step outputs
        self.in_place: dict[Node, str] = {}
        self.lines: list[str] = []
        self.parallel = False
        self.random = False

    # --- names ---------------------------------------------------------------------------------------------------
    def name(self, node: Node) -> str:
        if node.op.name == "item":
            return f"{self.lowered.names[node.inputs[0]]}_{node.attr('index')}"
        return self.lowered.names[node]

    def shape(self, node: Node) -> tuple:
        return self.lowered.shapes[node]

    def target(self, node: Node, index: int = 0, shape=None, dtype=None) -> str:
        """The array a planned op writes into: its workspace buffer, or a fresh array for a returned value."""
        name = self.lowered.names[node] + (f"_{index}" if isinstance(node.type, tuple) else "")
        types = node.type if isinstance(node.type, tuple) else (node.type,)
        for value, destination in self.in_place.items():
            if value is node or (value.op.name == "item" and value.inputs[0] is node and value.attr("index") == index):
                self.lines.append(f"    {name} = {destination}  # written in place")
                return name
        buffer = self.lowered.buffers.get((node, index))
        if buffer is not None:
            self.lines.append(f"    {name} = {buffer}")
        else:
            shape = shape or (self.shape(node)[index] if isinstance(node.type, tuple) else self.shape(node))
            self.lines.append(f"    {name} = {self.allocate(shape, dtype or types[index].dtype.name)}")
        return name

    def emit(self, line: str) -> None:
        self.lines.append(f"    {line}")

    # --- how arrays are made and moved: what another target (CUDA) prints differently ------------------------------
    def allocate(self, shape, dtype: str) -> str:
        return f"np.empty({shape}, np.{dtype})"

    def contiguous(self, value: str) -> str:
        return f"np.ascontiguousarray({value})"

    def permuted(self, value: str, shape: tuple, order: tuple) -> str:
        """``value`` (of ``shape``) with its axes in ``order``, contiguous."""
        return f"np.ascontiguousarray(np.transpose({value}, {tuple(order)}))"

    def assign(self, target: str, value: str, indent: str = "") -> None:
        self.emit(f"{indent}{target}[...] = {value}")

    def duplicate(self, value: str) -> str:
        return f"{value}.copy()"

    def store_step(self, stack: str, t: str, value: str, scalar: bool) -> None:
        self.emit(f"    {stack}[{t}] = {value}{'[0]' if scalar else ''}")

    def child(self, lowered: Lowered) -> Emitter:
        """The emitter of a loop's body."""
        return type(self)(lowered)

    # --- nodes ---------------------------------------------------------------------------------------------------
    def node(self, node: Node) -> None:
        kind = ", ".join(map(str, node.type)) if isinstance(node.type, tuple) else str(node.type)
        self.lines.append(f"    # {self.lowered.names[node]} = {node.op.name}"
                          f"({', '.join(self.lowered.names[i] for i in node.inputs)}): {kind} at {node.location}")
        if node.op.name == "fused":
            self.kernel(node, node.attr("expressions"), list(node.inputs))
        elif node.op.elementwise or node.op.name in ("broadcast_to", "broadcast_like"):
            self.single_kernel(node)
        else:
            getattr(self, f"op_{node.op.name}")(node, *[self.name(i) for i in node.inputs],
                                                **self.lowered.attrs(node))

    def single_kernel(self, node: Node) -> None:
        if node.op.elementwise:
            arguments = [input_symbol(i) for i in range(len(node.inputs))]
            with sympy.evaluate(False):
                expression = node.op.expr(*arguments, **node.attributes)
            self.kernel(node, (expression,), list(node.inputs))
        else:  # a broadcast: copy the input into every element of the result
            self.kernel(node, (input_symbol(0),), list(node.inputs[:1]))

    def elementwise(self, node: Node, expressions, inputs: list[Node]) -> Kernel:
        """What one element of a kernel computes: the inputs it reads there, the common subexpressions (computed
        once), and each result, printed by ``self.printer``."""
        types = node.type if isinstance(node.type, tuple) else (node.type,)
        space = self.shape(node)[0] if isinstance(node.type, tuple) else self.shape(node)
        targets = [self.target(node, k) for k in range(len(types))]
        with sympy.evaluate(False):
            shared, results = sympy.cse(list(expressions), symbols=sympy.numbered_symbols("t"))
        loop = [f"i{axis}" for axis in range(len(space))]
        floats = {t.dtype for t in types if t.dtype.kind == "f"} | {
            i.type.dtype for i in inputs if i.type.dtype.kind == "f"}
        printer = self.printer({"fully_qualified_modules": True}, single=floats == {np.dtype(np.float32)})
        reads = []
        for tensor in inputs:
            source, starts = self.unsliced(tensor)
            reads.append((source, index_expression(self.shape(tensor), space, loop, starts)))
        statements = [f"{symbol} = {printer.doprint(value)}" for symbol, value in shared]
        values = [f"int({printer.doprint(value)})" if kind.dtype.kind in "iu" else printer.doprint(value)
                  for value, kind in zip(results, types)]
        return Kernel(space, loop, targets, reads, statements, values)

    def kernel(self, node: Node, expressions, inputs: list[Node]) -> None:
        """One loop nest computing every expression per element."""
        kernel = self.elementwise(node, expressions, inputs)
        size = int(np.prod(kernel.space))
        body = "    "
        allowed = os.environ.get("GRAPHC_PARALLEL") == "1"
        for axis, extent in enumerate(kernel.space):
            parallel = allowed and axis == 0 and size >= PARALLEL_ELEMENTS and extent > 1
            self.parallel |= parallel
            self.lines.append(f"{body}for {kernel.loop[axis]} in {'numba.prange' if parallel else 'range'}({extent}):")
            body += "    "
        for position, (source, index) in enumerate(kernel.reads):
            self.lines.append(f"{body}{input_symbol(position)} = {source}[{index}]")
        self.lines += [f"{body}{statement}" for statement in kernel.statements]
        for target, value in zip(kernel.targets, kernel.values):
            self.lines.append(f"{body}{target}[{', '.join(kernel.loop)}] = {value}")

    def unsliced(self, tensor: Node) -> tuple[str, list[int]]:
        """The array a kernel reads ``tensor`` from, and the offsets: a slice with unit steps is read from its
        source at shifted indices, since LLVM vectorizes loops over contiguous arrays but not over strided views."""
        starts = [0] * len(self.shape(tensor))
        while tensor.op.name == "slice" and all(step == 1 for _, _, step in self.lowered.attrs(tensor)["index"]):
            starts = [s + start for s, (start, _, _) in zip(starts, self.lowered.attrs(tensor)["index"])]
            tensor = tensor.inputs[0]
        return self.name(tensor), starts

    # --- structured ops: (node, input names..., resolved attributes) ---------------------------------------------
    def rows(self, name: str, node: Node, axis: int) -> tuple[str, int]:
        """A 2-D (rows, n) view of ``name`` with ``axis`` last (a transposed copy if it is not already last)."""
        shape = self.shape(node)
        axis = axis % len(shape)
        n = shape[axis]
        if axis != len(shape) - 1:
            name = self.permuted(name, shape, tuple(a for a in range(len(shape)) if a != axis) + (axis,))
        return f"{self.contiguous(name)}.reshape(({int(np.prod(shape)) // n}, {n}))", n

    def op_matmul(self, node, a, b):
        out = self.target(node)
        # BLAS takes C- or F-ordered operands; a slice is neither.
        a, b = (self.contiguous(name) if value.op.name == "slice" else name for name, value in zip((a, b), node.inputs))
        shape_a, shape_b, shape_out = self.shape(node.inputs[0]), self.shape(node.inputs[1]), self.shape(node)
        if len(shape_out) == 2:  # BLAS takes C- or F-ordered operands: a transposed view needs no copy
            self.emit(f"{self.product}({a}, {b}, {out})")
            return
        a, b = self.contiguous(a), self.contiguous(b)
        self.emit(f"left, right = {a}, {b}")
        batch = shape_out[:-2]
        loop = [f"b{i}" for i in range(len(batch))]
        indent = ""
        for axis, extent in enumerate(batch):
            self.emit(f"{indent}for {loop[axis]} in range({extent}):")
            indent += "    "
        left_index = index_expression(shape_a[:-2], batch, loop)
        right_index = index_expression(shape_b[:-2], batch, loop)
        self.emit(f"{indent}{self.product}({self.contiguous(f'left[{left_index}]')}, "
                  f"{self.contiguous(f'right[{right_index}]')}, {out}[{', '.join(loop)}])".replace("[]", ""))

    def reduction(self, node, x, axes, kernel):
        shape = self.shape(node.inputs[0])
        kept = [a for a in range(len(shape)) if a not in axes]
        out = self.target(node)
        count = int(np.prod([shape[a] for a in axes])) if axes else 1
        if kernel == "row_sum" and list(axes) == list(range(len(axes))) and kept:  # leading axes: no transpose
            self.emit(f"rt.column_sum({self.contiguous(x)}.reshape(({count}, {int(np.prod(shape)) // count})),"
                      f" {out}.reshape(-1))")
            return
        order = tuple(kept + list(axes))
        view = self.permuted(x, shape, order) if order != tuple(range(len(shape))) else self.contiguous(x)
        self.emit(f"rt.{kernel}({view}.reshape(({int(np.prod(shape)) // count}, {count})), {out}.reshape(-1))")

    def op_sum(self, node, x, axes, keepdims):
        self.reduction(node, x, axes, "row_sum")

    def op_max(self, node, x, axes, keepdims):
        self.reduction(node, x, axes, "row_max")

    def op_argmax(self, node, x, axis):
        self.reduction(node, x, (axis,), "row_argmax")

    def op_axes_size(self, node, x, axes):
        out = self.target(node)
        self.emit(f"rt.fill({out}, {int(np.prod([self.shape(node.inputs[0])[a] for a in axes]))})")

    def axis_op(self, node, x, axis, kernel):
        out = self.target(node)
        shape = self.shape(node)
        axis = axis % len(shape)
        view, n = self.rows(x, node, axis)
        if axis == len(shape) - 1:
            self.emit(f"rt.{kernel}({view}, {out}.reshape(({int(np.prod(shape)) // n}, {n})))")
            return
        moved = tuple(d for a, d in enumerate(shape) if a != axis) + (n,)
        inverse = tuple(int(a) for a in np.argsort([a for a in range(len(shape)) if a != axis] + [axis]))
        self.emit(f"moved = {self.allocate(moved, node.type.dtype.name)}")
        self.emit(f"rt.{kernel}({view}, moved.reshape(({int(np.prod(shape)) // n}, {n})))")
        self.assign(out, self.permuted("moved", moved, inverse))

    def op_softmax(self, node, x, axis):
        self.axis_op(node, x, axis, "row_softmax")

    def op_log_softmax(self, node, x, axis):
        self.axis_op(node, x, axis, "row_log_softmax")

    def labelled(self, node, values, labels, kernel):
        out = self.target(node)
        view, n = self.rows(values, node.inputs[0], -1)
        self.emit(f"rt.{kernel}({view}, {self.contiguous(labels)}.reshape(-1), {out}.reshape(-1))")

    def op_cross_entropy(self, node, logits, labels):
        self.labelled(node, logits, labels, "row_cross_entropy")

    def op_pick(self, node, values, labels):
        self.labelled(node, values, labels, "row_pick")

    def op_gather(self, node, table, indices):
        out = self.target(node)
        rows, width = self.shape(node.inputs[0])[0], int(np.prod(self.shape(node.inputs[0])[1:]))
        self.emit(f"rt.gather_rows({self.contiguous(table)}.reshape(({rows}, {width})), "
                  f"{self.contiguous(indices)}.reshape(-1), {out}.reshape((-1, {width})))")

    def op_scatter_add(self, node, indices, updates, rows):
        out = self.target(node)
        width = int(np.prod(self.shape(node)[1:]))
        self.emit(f"rt.scatter_add_rows({self.contiguous(indices)}.reshape(-1), "
                  f"{self.contiguous(updates)}.reshape((-1, {width})), {out}.reshape(({rows}, {width})))")

    def op_one_hot(self, node, labels, depth, dtype):
        out = self.target(node)
        self.emit(f"rt.one_hot_rows({self.contiguous(labels)}.reshape(-1), {out}.reshape((-1, {depth})))")

    def op_uniform(self, node, like, instance):
        self.random = True
        out = self.target(node)
        self.emit(f"{out}[...] = np.random.random({self.shape(node)})")

    def alias(self, node, value):
        self.emit(f"{self.name(node)} = {value}")

    def op_reshape(self, node, x, shape):
        self.alias(node, f"{self.contiguous(x)}.reshape({self.shape(node)})")

    def op_reshape_like(self, node, x, like):
        self.op_reshape(node, x, None)

    def op_transpose(self, node, x, axes):
        if len(axes) == 2:  # a view (F-ordered); matmul reads it as it is, loops index it
            self.alias(node, f"np.transpose({x})")
        else:
            self.alias(node, self.permuted(x, self.shape(node.inputs[0]), tuple(axes)))

    def op_concat(self, node, *parts, axis):
        """Each part copied into its block of a planned buffer (no allocation per call, or per loop step)."""
        out = self.target(node)
        axis = axis % len(self.shape(node))
        start = 0
        for part, value in zip(parts, node.inputs):
            stop = start + self.shape(value)[axis]
            block = ", ".join([":"] * axis + [f"{start}:{stop}"])
            self.assign(f"{out}[{block}]", part)
            start = stop

    def slices(self, index) -> str:
        return ", ".join(f"{a}:{'' if b < 0 else b}:{c}" for a, b, c in index)

    def op_slice(self, node, x, index):
        self.alias(node, f"{x}[{self.slices(index)}]")  # a view: kernels read it in place

    def op_pad_slice(self, node, x, like, index):
        self.alias(node, self.allocate(self.shape(node), node.type.dtype.name))
        self.emit(f"rt.fill({self.name(node)}, 0)")
        self.assign(f"{self.name(node)}[{self.slices(index)}]", x)

    def op_item(self, node, values, index):
        pass  # a fused kernel's results are named v<k>_<index> already

    def op_stop_gradient(self, node, x):
        self.alias(node, x)

    def op_scan(self, node, *arguments, body, reverse, length, recompute):
        loop(self, node, arguments, body, reverse, length)


def generate(lowered: Lowered, key: str, writes: dict[str, Node] | None = None) -> str:
    """The module source: the entry point ``run`` and what the caller needs to call it."""
    emitter = Emitter(lowered)
    arguments, returned = program(emitter, writes or {})
    header = [
        f'"""graphc CPU kernels. Generated; do not edit. key {key}"""',
        "import math",
        "",
        "import numba",
        "import numpy as np",
        "",
        "from graphc.backends import cpu_math as rm",
        "from graphc.backends import cpu_runtime as rt",
        "",
        *preamble(lowered),
        "",
        "",
        f"@numba.njit(cache=True, error_model='numpy', parallel={emitter.parallel})",
        f"def run({', '.join(arguments)}):",
    ]
    seeding = ["    np.random.seed(seed)"] if emitter.random else []
    return "\n".join(header + seeding + emitter.lines + [f"    return ({''.join(r + ', ' for r in returned)})"]) + "\n"
