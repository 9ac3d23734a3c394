"""How the CPU emitter prints each structured op: one method per op class, marked ``@emits``, calling the row
kernels of ``runtime/cpu.py`` on 2-D views whose last axis is the op's axis. Element-wise and fused nodes are
printed as loop nests by the emitter itself (``cpu.py``); the CUDA emitter overrides a few of these methods."""

from __future__ import annotations

import numpy as np

from ...ir import Node
from ...loops.scan import Scan
from ...ops.indexing import Gather, OneHot, Pick, ScatterAdd
from ...ops.item import Item
from ...ops.linalg import MatMul
from ...ops.loss import CrossEntropy
from ...ops.random import Uniform
from ...ops.reduce import ArgMax, AxesSize, Max, Sum
from ...ops.shape import Reshape, ReshapeLike, StopGradient, Transpose
from ...ops.slicing import Concat, PadSlice, Slice
from ...ops.softmax import LogSoftmax, Softmax
from ...types import quotient
from .program import emits, loop
from .scalar import argument_text, index_expression, product, shape_text, size_text


class StructuredOps:
    """The structured-op half of ``cpu.Emitter``: each method gets the node, its inputs' names and its resolved
    attributes, and prints its lines with the emitter's array hooks (``target``, ``reshaped``, ``permuted``,
    ``assign``, ``allocate``)."""

    def flat(self, name: str, node: Node) -> str:
        """``name`` (the value of ``node``) as a contiguous 1-D array."""
        return self.reshaped(name, (product(self.shape(node)),))

    def rows(self, name: str, node: Node, axis: int) -> tuple[str, int]:
        """A 2-D (rows, n) view of ``name`` with ``axis`` last (a transposed copy if it is not already last)."""
        shape = self.shape(node)
        axis = axis % len(shape)
        n = shape[axis]
        if axis != len(shape) - 1:
            name = self.permuted(name, shape, tuple(a for a in range(len(shape)) if a != axis) + (axis,))
        return self.reshaped(name, (quotient(product(shape), n), n)), n

    @emits(MatMul)
    def op_matmul(self, node, a, b):
        out = self.target(node)
        shape_a, shape_b, shape_out = self.shape(node.inputs[0]), self.shape(node.inputs[1]), self.shape(node)
        if len(shape_out) == 2 and node.inputs[1] in self.packed:  # a loop's weight, packed before the loop
            call = "threaded_product({}, {}, {}, threads)" if self.threaded else "packed_product({}, {}, {})"
            self.emit("rt." + call.format(self.reshaped(a, shape_a), self.packed[node.inputs[1]], out))
            return
        # BLAS takes C- or F-ordered operands: a transposed view needs no copy, a slice is neither
        a, b = (self.reshaped(name, self.shape(value)) if isinstance(value.op, Slice) else name
                for name, value in zip((a, b), node.inputs))
        if len(shape_out) == 2:
            self.emit(self.product(a, b, out))
            return
        self.emit(f"left, right = {self.reshaped(a, shape_a)}, {self.reshaped(b, shape_b)}")
        batch = shape_out[:-2]
        loop = [f"b{i}" for i in range(len(batch))]
        indent = ""
        for axis, extent in enumerate(batch):
            self.emit(f"{indent}for {loop[axis]} in range({size_text(extent)}):")
            indent += "    "
        left_index = index_expression(shape_a[:-2], batch, loop)
        right_index = index_expression(shape_b[:-2], batch, loop)
        self.emit(indent + self.product(self.reshaped(f"left[{left_index}]", shape_a[-2:]),
                                        self.reshaped(f"right[{right_index}]", shape_b[-2:]),
                                        f"{out}[{', '.join(loop)}]").replace("[]", ""))

    def reduction(self, node, x, axes, kernel):
        shape = self.shape(node.inputs[0])
        kept = [a for a in range(len(shape)) if a not in axes]
        out = self.target(node)
        count = product([shape[a] for a in axes])
        if kernel == "row_sum" and list(axes) == list(range(len(axes))) and kept:  # leading axes: no transpose
            self.emit(f"rt.column_sum({self.reshaped(x, (count, quotient(product(shape), count)))}, "
                      f"{self.flat(out, node)})")
            return
        order = tuple(kept + list(axes))
        view = self.permuted(x, shape, order) if order != tuple(range(len(shape))) else x
        self.emit(f"rt.{kernel}({self.reshaped(view, (quotient(product(shape), count), count))}, "
                  f"{self.flat(out, node)})")

    @emits(Sum)
    def op_sum(self, node, x, axes, keepdims):
        self.reduction(node, x, axes, "row_sum")

    @emits(Max)
    def op_max(self, node, x, axes, keepdims):
        self.reduction(node, x, axes, "row_max")

    @emits(ArgMax)
    def op_argmax(self, node, x, axis):
        self.reduction(node, x, (axis,), "row_argmax")

    @emits(AxesSize)
    def op_axes_size(self, node, x, axes):
        out = self.target(node)
        self.emit(f"rt.fill({out}, {argument_text(product([self.shape(node.inputs[0])[a] for a in axes]))})")

    def axis_op(self, node, x, axis, kernel):
        out = self.target(node)
        shape = self.shape(node)
        axis = axis % len(shape)
        view, n = self.rows(x, node, axis)
        if axis == len(shape) - 1:
            self.emit(f"rt.{kernel}({view}, {self.reshaped(out, (quotient(product(shape), n), n))})")
            return
        moved = tuple(d for a, d in enumerate(shape) if a != axis) + (n,)
        inverse = tuple(int(a) for a in np.argsort([a for a in range(len(shape)) if a != axis] + [axis]))
        self.emit(f"moved = {self.allocate(moved, node.type.dtype.name)}")
        self.emit(f"rt.{kernel}({view}, {self.reshaped('moved', (quotient(product(shape), n), n))})")
        self.assign(out, self.permuted("moved", moved, inverse))

    @emits(Softmax)
    def op_softmax(self, node, x, axis):
        self.axis_op(node, x, axis, "row_softmax")

    @emits(LogSoftmax)
    def op_log_softmax(self, node, x, axis):
        self.axis_op(node, x, axis, "row_log_softmax")

    def check(self, node) -> str:
        """The arguments by which a kernel reports an index out of range: the status array and this node's check
        number."""
        return f"status, {argument_text((self.lowered.root or self.lowered).checked.index(node))}"

    def labelled(self, node, values, labels, kernel):
        out = self.target(node)
        view, n = self.rows(values, node.inputs[0], -1)
        self.emit(f"rt.{kernel}({view}, {self.flat(labels, node.inputs[1])}, {self.flat(out, node)}, "
                  f"{self.check(node)})")

    @emits(CrossEntropy)
    def op_cross_entropy(self, node, logits, labels):
        self.labelled(node, logits, labels, "row_cross_entropy")

    @emits(Pick)
    def op_pick(self, node, values, labels):
        self.labelled(node, values, labels, "row_pick")

    @emits(Gather)
    def op_gather(self, node, table, indices):
        out = self.target(node)
        rows, width = self.shape(node.inputs[0])[0], product(self.shape(node.inputs[0])[1:])
        count = product(self.shape(node.inputs[1]))
        self.emit(f"rt.gather_rows({self.reshaped(table, (rows, width))}, {self.flat(indices, node.inputs[1])}, "
                  f"{self.reshaped(out, (count, width))}, {self.check(node)})")

    @emits(ScatterAdd)
    def op_scatter_add(self, node, indices, updates, rows):
        out = self.target(node)
        width, count = product(self.shape(node)[1:]), product(self.shape(node.inputs[0]))
        self.emit(f"rt.scatter_add_rows({self.flat(indices, node.inputs[0])}, "
                  f"{self.reshaped(updates, (count, width))}, {self.reshaped(out, (rows, width))}, "
                  f"{self.check(node)})")

    @emits(OneHot)
    def op_one_hot(self, node, labels, depth, dtype):
        out = self.target(node)
        count = product(self.shape(node.inputs[0]))
        self.emit(f"rt.one_hot_rows({self.flat(labels, node.inputs[0])}, {self.reshaped(out, (count, depth))}, "
                  f"{self.check(node)})")

    @emits(Uniform)
    def op_uniform(self, node, like, instance):
        self.random = True
        out = self.target(node)
        self.assign(out, f"np.random.random({shape_text(self.shape(node))})")

    def alias(self, node, value):
        self.emit(f"{self.name(node)} = {value}")

    @emits(Reshape)
    def op_reshape(self, node, x, shape):
        self.alias(node, self.reshaped(x, self.shape(node)))

    @emits(ReshapeLike)
    def op_reshape_like(self, node, x, like):
        self.op_reshape(node, x, None)

    @emits(Transpose)
    def op_transpose(self, node, x, axes):
        if len(axes) == 2:  # a view (F-ordered); matmul reads it as it is, loops index it
            self.alias(node, f"np.transpose({x})")
            self.views.add(self.name(node))
        else:
            self.alias(node, self.permuted(x, self.shape(node.inputs[0]), tuple(axes)))

    @emits(Concat)
    def op_concat(self, node, *parts, axis):
        """Each part copied into its block of a planned buffer (no allocation per call, or per loop step)."""
        out = self.target(node)
        axis = axis % len(self.shape(node))
        start = 0
        for part, value in zip(parts, node.inputs):
            stop = start + self.shape(value)[axis]
            block = ", ".join([":"] * axis + [f"{size_text(start)}:{size_text(stop)}"])
            self.assign(f"{out}[{block}]", part)
            start = stop

    def slices(self, index) -> str:
        # A normalized stop of -1 with a negative step means "through element 0", which Python spells as nothing.
        return ", ".join(f"{size_text(a)}:{'' if isinstance(b, int) and b < 0 else size_text(b)}:{c}"
                         for a, b, c in index)

    @emits(Slice)
    def op_slice(self, node, x, index):
        self.alias(node, f"{x}[{self.slices(index)}]")  # a view: kernels read it in place
        self.views.add(self.name(node))

    @emits(PadSlice)
    def op_pad_slice(self, node, x, like, index):
        self.alias(node, self.allocate(self.shape(node), node.type.dtype.name))
        self.emit(f"rt.fill({self.name(node)}, {argument_text(0)})")
        self.assign(f"{self.name(node)}[{self.slices(index)}]", x)

    @emits(Item)
    def op_item(self, node, values, index):
        pass  # a fused kernel's results are named v<k>_<index> already

    @emits(StopGradient)
    def op_stop_gradient(self, node, x):
        self.alias(node, x)
        if x in self.views:
            self.views.add(self.name(node))

    @emits(Scan)
    def op_scan(self, node, *arguments, body, reverse, length, recompute):
        loop(self, node, arguments, body, reverse, length)
