"""Ops that move data without arithmetic: reshape, transpose, broadcast, concatenation, slicing, gather and
scatter-add (the embedding lookup and its gradient), one-hot, and stop_gradient."""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import DTypeError, ShapeError
from ..types import TensorType, as_dim, as_shape, broadcast_shapes, format_shape, is_concrete, normalize_axis, size
from .registry import Case, Op, apply, register, require_same_dtype


def _same_size(a, b) -> bool:
    return sympy.expand(sympy.sympify(size(a)) - sympy.sympify(size(b))) == 0


@register
class Reshape(Op):
    name = "reshape"
    derivative_text = ("g reshaped back",)
    cases = (Case(((3, 4),), {"shape": (2, 6)}),)

    def infer(self, types, shape):
        (x,) = types
        if not _same_size(x.shape, shape):
            raise ShapeError(f"cannot reshape {format_shape(x.shape)} to {format_shape(shape)}: sizes differ")
        return TensorType(shape, x.dtype)

    def reference(self, x, shape):
        return np.reshape(x, shape)

    def vjp(self, inputs, out, grad, shape):
        return [reshape_like(grad, inputs[0])]


@register
class Transpose(Op):
    name = "transpose"
    derivative_text = ("g transposed back",)
    cases = (Case(((2, 3, 4),), {"axes": (2, 0, 1)}),)

    def infer(self, types, axes):
        (x,) = types
        if sorted(axes) != list(range(x.rank)):
            raise ShapeError(f"axes {axes} are not a permutation of the {x.rank} axes of {format_shape(x.shape)}")
        return TensorType(tuple(x.shape[a] for a in axes), x.dtype)

    def reference(self, x, axes):
        return np.transpose(x, axes)

    def vjp(self, inputs, out, grad, axes):
        return [transpose(grad, tuple(int(a) for a in np.argsort(axes)))]


@register
class BroadcastTo(Op):
    name = "broadcast_to"
    derivative_text = ("g summed over broadcast axes",)
    cases = (Case(((3, 1),), {"shape": (2, 3, 4)}),)

    def infer(self, types, shape):
        (x,) = types
        if broadcast_shapes(x.shape, shape) != tuple(shape):
            raise ShapeError(f"cannot broadcast {format_shape(x.shape)} to {format_shape(shape)}")
        return TensorType(shape, x.dtype)

    def reference(self, x, shape):
        return np.broadcast_to(x, shape).copy()

    def vjp(self, inputs, out, grad, shape):
        return [grad]  # autodiff sums the gradient back to the input's shape


# Derivative rules often need "x's shape" where it has named dimensions. Taking it from x itself (an input of the
# node) keeps every gradient graph self-contained: each named dimension is bound by a leaf of the graph.
@register
class BroadcastLike(Op):
    """x broadcast to the shape of ``like`` (whose values are not used)."""

    name = "broadcast_like"
    shape_only = (1,)
    derivative_text = ("g summed over broadcast axes", "")
    cases = (Case(((3, 1), (2, 3, 4))),)

    def infer(self, types):
        x, like = types
        if broadcast_shapes(x.shape, like.shape) != like.shape:
            raise ShapeError(f"cannot broadcast {format_shape(x.shape)} to {format_shape(like.shape)}")
        return TensorType(like.shape, x.dtype)

    def reference(self, x, like):
        return np.broadcast_to(x, like.shape).copy()

    def vjp(self, inputs, out, grad):
        return [grad, None]


@register
class ReshapeLike(Op):
    """x reshaped to the shape of ``like`` (whose values are not used)."""

    name = "reshape_like"
    shape_only = (1,)
    derivative_text = ("g reshaped back", "")
    cases = (Case(((3, 4), (2, 6))),)

    def infer(self, types):
        x, like = types
        if not _same_size(x.shape, like.shape):
            raise ShapeError(f"cannot reshape {format_shape(x.shape)} to {format_shape(like.shape)}: sizes differ")
        return TensorType(like.shape, x.dtype)

    def reference(self, x, like):
        return np.reshape(x, like.shape)

    def vjp(self, inputs, out, grad):
        return [reshape_like(grad, inputs[0]), None]


@register
class Concat(Op):
    name = "concat"
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
    derivative_text = ("g padded with zeros",)
    cases = (Case(((5, 4),), {"index": ((1, 4, 1), (3, -1, -2))}),)

    def infer(self, types, index):
        (x,) = types
        return TensorType(tuple(_slice_length(*bounds) for bounds in index), x.dtype)

    def reference(self, x, index):
        return x[_python_slices(index)].copy()

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

    def vjp(self, inputs, out, grad, index):
        return [apply("slice", grad, index=index), None]


@register
class Gather(Op):
    """Rows of ``table`` picked by integer ``indices``: shape indices.shape + table.shape[1:]."""

    name = "gather"
    derivative_text = ("g scatter-added into the rows used", "")
    cases = (Case(((5, 3), (2, 4)), integers={1: 5}),)

    def infer(self, types):
        table, indices = types
        if indices.dtype.kind != "i":
            raise DTypeError(f"indices must be integers, got {indices.dtype.name}")
        if table.rank < 1:
            raise ShapeError("cannot gather from a scalar")
        return TensorType(indices.shape + table.shape[1:], table.dtype)

    def reference(self, table, indices):
        return np.take(table, indices, axis=0)

    def vjp(self, inputs, out, grad):
        table, indices = inputs
        return [apply("scatter_add", indices, grad, rows=table.shape[0]), None]


@register
class ScatterAdd(Op):
    """Zeros of shape (rows,) + updates.shape[indices.rank:], with each update row added at its index."""

    name = "scatter_add"
    derivative_text = ("", "g gathered")
    cases = (Case(((2, 4), (2, 4, 3)), {"rows": 5}, integers={0: 5}),)

    def infer(self, types, rows):
        indices, updates = types
        if updates.shape[: indices.rank] != indices.shape:
            raise ShapeError(f"updates {format_shape(updates.shape)} do not start with indices' shape "
                             f"{format_shape(indices.shape)}")
        return TensorType((rows,) + updates.shape[indices.rank:], updates.dtype)

    def reference(self, indices, updates, rows):
        result = np.zeros((rows,) + updates.shape[indices.ndim:], dtype=updates.dtype)
        np.add.at(result, indices, updates)
        return result

    def vjp(self, inputs, out, grad, rows):
        indices, updates = inputs
        return [None, gather(grad, indices)]


def labelled_type(logits: TensorType, labels: TensorType) -> TensorType:
    """One value per label: logits (..., C) with integer labels (...) give (...) (pick, cross_entropy)."""
    if labels.dtype.kind != "i":
        raise DTypeError(f"labels must be integers, got {labels.dtype.name}")
    if logits.rank < 1 or logits.shape[:-1] != labels.shape:
        raise ShapeError(f"logits {format_shape(logits.shape)} need labels of shape "
                         f"{format_shape(logits.shape[:-1])}, got {format_shape(labels.shape)}")
    return TensorType(labels.shape, logits.dtype)


@register
class Pick(Op):
    """``z[..., labels]``: from each row of the last axis of z, the element its integer label selects."""

    name = "pick"
    derivative_text = ("g · onehot(labels)", "")
    cases = (Case(((4, 5), (4,)), integers={1: 5}), Case(((2, 3, 5), (2, 3)), integers={1: 5}))

    def infer(self, types):
        return labelled_type(*types)

    def reference(self, z, labels):
        return np.take_along_axis(z, labels[..., None], axis=-1)[..., 0]

    def vjp(self, inputs, out, grad):
        z, labels = inputs
        return [expand_dims(grad, -1) * one_hot(labels, z.shape[-1], z.dtype), None]


@register
class OneHot(Op):
    name = "one_hot"
    differentiable = False
    cases = (Case(((6,),), {"depth": 4, "dtype": "float32"}, integers={0: 4}),)

    def infer(self, types, depth, dtype):
        (labels,) = types
        if labels.dtype.kind != "i":
            raise DTypeError(f"labels must be integers, got {labels.dtype.name}")
        return TensorType(labels.shape + (depth,), np.dtype(dtype))

    def reference(self, labels, depth, dtype):
        return (labels[..., None] == np.arange(depth)).astype(dtype)


@register
class StopGradient(Op):
    """The identity forward; no gradient flows back through it."""

    name = "stop_gradient"
    differentiable = False
    cases = (Case(((3, 4),)),)

    def infer(self, types):
        return types[0]

    def reference(self, x):
        return x


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


# --- builders --------------------------------------------------------------------------------------------------------
def reshape(x, shape):
    """Reshape; one entry may be -1 and is inferred (symbolically, if named dimensions are involved)."""
    shape = list(shape)
    if shape.count(-1) > 1:
        raise ShapeError("reshape: at most one dimension can be -1")
    if -1 in shape:
        position = shape.index(-1)
        known = sympy.Integer(1)
        for i, d in enumerate(shape):
            if i != position:
                known *= as_dim(d)
        inferred = sympy.simplify(sympy.sympify(size(x.shape)) / known)
        if not (inferred.is_integer and inferred.is_positive) and inferred != 0:
            raise ShapeError(f"reshape: cannot infer -1 reshaping {format_shape(x.shape)} to {tuple(shape)}")
        shape[position] = inferred
    shape = as_shape(shape)
    return x if shape == x.shape else apply("reshape", x, shape=shape)


def transpose(x, axes=None):
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(normalize_axis(a, x.ndim) for a in axes)
    return x if axes == tuple(range(x.ndim)) else apply("transpose", x, axes=axes)


def broadcast_to(x, shape):
    shape = as_shape(shape)
    return x if shape == x.shape else apply("broadcast_to", x, shape=shape)


def broadcast_like(x, like):
    """x broadcast to like's shape; a plain broadcast_to when that shape has no named dimensions."""
    if x.shape == like.shape:
        return x
    return broadcast_to(x, like.shape) if is_concrete(like.shape) else apply("broadcast_like", x, like)


def reshape_like(x, like):
    """x reshaped to like's shape; a plain reshape when that shape has no named dimensions."""
    if x.shape == like.shape:
        return x
    return reshape(x, like.shape) if is_concrete(like.shape) else apply("reshape_like", x, like)


def concat(tensors, axis: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("concat needs at least one tensor")
    if len(tensors) == 1:
        return tensors[0]
    return apply("concat", *tensors, axis=normalize_axis(axis, tensors[0].ndim))


def expand_dims(x, axis: int):
    axis = normalize_axis(axis, x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def squeeze(x, axis: int):
    axis = normalize_axis(axis, x.ndim)
    if x.shape[axis] != 1:
        raise ShapeError(f"squeeze: axis {axis} of {format_shape(x.shape)} has size {x.shape[axis]}, not 1")
    return reshape(x, x.shape[:axis] + x.shape[axis + 1:])


def stack(tensors, axis: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack needs at least one tensor")
    return concat([expand_dims(t, axis) for t in tensors], axis)


def gather(table, indices):
    """``table[indices]`` along axis 0: the embedding lookup. Its gradient is a scatter-add into the rows used."""
    return apply("gather", table, indices)


def one_hot(labels, depth: int, dtype="float32"):
    return apply("one_hot", labels, depth=as_dim(depth), dtype=np.dtype(dtype).name)


def pick(z, labels):
    """``z[..., labels]`` along the last axis (the probability of the true class, say)."""
    return apply("pick", z, labels)


def stop_gradient(x):
    return apply("stop_gradient", x)


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
