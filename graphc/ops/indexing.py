"""Ops that index by integer values: ``gather`` (the embedding lookup) and ``scatter_add`` (its gradient), ``pick``
(one entry per row, by label) and ``one_hot``."""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError, ShapeError
from ..types import TensorType, as_dim, format_shape
from .registry import Case, Op, apply, public, register
from .shape import expand_dims


@register
class Gather(Op):
    """Rows of ``table`` picked by integer ``indices``: shape indices.shape + table.shape[1:]."""

    name = "gather"
    planned = True
    batched = True
    derivative_text = ("g scatter-added into the rows used", "")
    cases = (Case(((5, 3), (2, 4)), integers={1: 5}),)
    indices = 1

    def index_bound(self, shapes):
        return shapes[0][0]

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
    planned = True
    sizes = ("rows",)
    derivative_text = ("", "g gathered")
    cases = (Case(((2, 4), (2, 4, 3)), {"rows": 5}, integers={0: 5}),)
    indices = 0

    def index_bound(self, shapes, rows):
        return rows

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
    planned = True
    derivative_text = ("g · onehot(labels)", "")
    cases = (Case(((4, 5), (4,)), integers={1: 5}), Case(((2, 3, 5), (2, 3)), integers={1: 5}))
    indices = 1

    def infer(self, types):
        return labelled_type(*types)

    def index_bound(self, shapes):
        return shapes[0][-1]

    def reference(self, z, labels):
        return np.take_along_axis(z, labels[..., None], axis=-1)[..., 0]

    def vjp(self, inputs, out, grad):
        z, labels = inputs
        return [expand_dims(grad, -1) * one_hot(labels, z.shape[-1], z.dtype), None]


@register
class OneHot(Op):
    name = "one_hot"
    planned = True
    sizes = ("depth",)
    dtype_attribute = True
    differentiable = False
    cases = (Case(((6,),), {"depth": 4, "dtype": "float32"}, integers={0: 4}),)
    indices = 0

    def index_bound(self, shapes, depth, dtype):
        return depth

    def infer(self, types, depth, dtype):
        (labels,) = types
        if labels.dtype.kind != "i":
            raise DTypeError(f"labels must be integers, got {labels.dtype.name}")
        return TensorType(labels.shape + (depth,), np.dtype(dtype))

    def reference(self, labels, depth, dtype):
        return (labels[..., None] == np.arange(depth)).astype(dtype)



# --- public functions --------------------------------------------------------------------------------------------
@public
def gather(table, indices):
    """``table[indices]`` along axis 0: the embedding lookup. Its gradient is a scatter-add into the rows used."""
    return apply("gather", table, indices)


@public
def one_hot(labels, depth: int, dtype="float32"):
    return apply("one_hot", labels, depth=as_dim(depth), dtype=np.dtype(dtype).name)


@public
def pick(z, labels):
    """``z[..., labels]`` along the last axis (the probability of the true class, say)."""
    return apply("pick", z, labels)
