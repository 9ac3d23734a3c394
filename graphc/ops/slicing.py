"""Ops that cut and join values: concatenation, basic slicing (NumPy's ``x[1:, ::2]``) and its adjoint, the
zero-padded slice; ``stack``, and the Tensor's ``[]``."""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import ShapeError
from ..types import TensorType, as_dim, format_shape, normalize_axis
from .indexing import gather
from .registry import Case, Op, apply, public, register, require_same_dtype
from .shape import expand_dims, reshape


def _generalized_bounds(op, attrs: dict, generalize) -> dict:
    """``Op.generalize_attributes`` of the slice ops: starts and stops are offsets along an axis, so sizes; a step
    stays literal (it decides how a slice is read)."""
    index = tuple((generalize(start), generalize(stop), step) for start, stop, step in attrs["index"])
    return {**attrs, "index": index}


@register
class Concat(Op):
    name = "concat"
    planned = True
    derivative_text = ("g sliced",)
    cases = (Case(((2, 3), (4, 3)), {"axis": 0}), Case(((2, 3), (2, 1), (2, 2)), {"axis": 1}))

    def infer(self, types, axis):
        first = types[0]
        require_same_dtype(types)
        for t in types[1:]:
            others = [d for i, d in enumerate(t.shape) if i != axis]
            if t.rank != first.rank or others != [d for i, d in enumerate(first.shape) if i != axis]:
                shapes = ", ".join(format_shape(u.shape) for u in types)
                raise ShapeError(f"shapes {shapes} differ outside axis {axis}")
        total = as_dim(sympy.sympify(sum(sympy.sympify(t.shape[axis]) for t in types)))
        return TensorType(first.shape[:axis] + (total,) + first.shape[axis + 1:], first.dtype)

    def keeps_rows(self, rows, shapes, out, axis) -> bool:
        return axis != 0  # joined along another axis, each row of the result is the same row of every input

    def reference(self, *arrays, axis):
        return np.concatenate(arrays, axis=axis)

    def vjp(self, inputs, out, grad, axis):
        grads, start = [], 0
        for x in inputs:
            stop = as_dim(sympy.sympify(start + x.shape[axis]))
            grads.append(_slice_axis(grad, axis, start, stop))
            start = stop
        return grads


@register
class Slice(Op):
    """Basic slicing: ``index`` holds a normalized (start, stop, step) for every axis."""

    name = "slice"
    view = True
    layout = True
    derivative_text = ("g padded with zeros",)
    cases = (Case(((5, 4),), {"index": ((1, 4, 1), (3, -1, -2))}),)

    def infer(self, types, index):
        (x,) = types
        return TensorType(tuple(_slice_length(*bounds) for bounds in index), x.dtype)

    def reference(self, x, index):
        return x[_python_slices(index)].copy()

    def keeps_rows(self, rows, shapes, out, index) -> bool:
        start, _, step = index[0]
        return rows[0] and start == 0 and step == 1  # every row, in order (a reversal has as many)

    generalize_attributes = _generalized_bounds

    def vjp(self, inputs, out, grad, index):
        return [apply("pad_slice", grad, inputs[0], index=index)]


@register
class PadSlice(Op):
    """The adjoint of ``slice``: zeros shaped like ``like`` with x written at ``index``."""

    name = "pad_slice"
    shape_only = (1,)
    derivative_text = ("g sliced", "")
    cases = (Case(((3, 2), (5, 4)), {"index": ((1, 4, 1), (0, 4, 2))}),)

    def infer(self, types, index):
        x, like = types
        if tuple(_slice_length(*bounds) for bounds in index) != x.shape:
            raise ShapeError(f"{format_shape(x.shape)} does not fill the slice {index}")
        return TensorType(like.shape, x.dtype)

    def reference(self, x, like, index):
        result = np.zeros(like.shape, dtype=x.dtype)
        result[_python_slices(index)] = x
        return result

    generalize_attributes = _generalized_bounds

    def vjp(self, inputs, out, grad, index):
        return [apply("slice", grad, index=index), None]


# --- slicing helpers -------------------------------------------------------------------------------------------------
def _slice_length(start, stop, step):
    if all(isinstance(v, int) for v in (start, stop, step)):
        return len(range(start, stop, step))
    span = sympy.sympify(stop) - sympy.sympify(start)
    return as_dim(span if step == 1 else sympy.ceiling(span / step))


def _python_slices(index):
    # A normalized stop of -1 with a negative step means "through element 0", which Python spells None.
    return tuple(slice(start, None if stop < 0 else stop, step) for start, stop, step in index)


def _normalize_slice(item: slice, dim):
    step = 1 if item.step is None else int(item.step)
    if step == 0:
        raise ShapeError("slice step cannot be zero")
    if isinstance(dim, int):
        return item.indices(dim)
    if step < 0:
        raise ShapeError(f"negative slice steps need a fixed-size axis, not '{dim}'")

    def bound(value, default):
        if value is None:
            return default
        value = int(value)
        return as_dim(dim + value) if value < 0 else value

    return bound(item.start, 0), bound(item.stop, dim), step


def _slice_axis(x, axis, start, stop):
    index = tuple((start, stop, 1) if i == axis else (0, d, 1) for i, d in enumerate(x.shape))
    return apply("slice", x, index=index)



# --- public functions --------------------------------------------------------------------------------------------
@public
def concat(tensors, axis: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("concat needs at least one tensor")
    if len(tensors) == 1:
        return tensors[0]
    return apply("concat", *tensors, axis=normalize_axis(axis, tensors[0].ndim))


@public
def stack(tensors, axis: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack needs at least one tensor")
    return concat([expand_dims(t, axis) for t in tensors], axis)


def getitem(x, index):
    """NumPy basic indexing (ints, slices, None, ...) and, with an integer tensor, ``gather`` along axis 0."""
    if hasattr(index, "node"):
        return gather(x, index)
    index = index if isinstance(index, tuple) else (index,)
    if any(hasattr(i, "node") for i in index):
        raise ShapeError("tensor indices are supported alone (x[indices]); use graphc.gather for other axes")
    explicit = [i for i in index if i is not None and i is not Ellipsis]
    if len(explicit) > x.ndim:
        raise ShapeError(f"too many indices ({len(explicit)}) for a tensor of shape {format_shape(x.shape)}")
    missing = (slice(None),) * (x.ndim - len(explicit))
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index = index[:at] + missing + index[at + 1:]
    else:
        index = index + missing
    bounds, final_shape, axis = [], [], 0
    for item in index:
        if item is None:
            final_shape.append(1)
            continue
        dim = x.shape[axis]
        if isinstance(item, slice):
            bounds.append(_normalize_slice(item, dim))
            final_shape.append(_slice_length(*bounds[-1]))
        elif isinstance(item, (int, np.integer)):
            item = int(item)
            if isinstance(dim, int) and not -dim <= item < dim:
                raise ShapeError(f"index {item} is out of range for axis {axis} of size {dim}")
            start = as_dim(dim + item) if item < 0 else item
            bounds.append((start, as_dim(sympy.sympify(start) + 1), 1))
        else:
            raise ShapeError(f"unsupported index {item!r}")
        axis += 1
    full = tuple(bounds) == tuple((0, d, 1) for d in x.shape)
    sliced = x if full else apply("slice", x, index=tuple(bounds))
    return reshape(sliced, final_shape)
