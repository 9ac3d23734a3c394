"""Losses and metrics: multiclass cross-entropy fused from logits, binary cross-entropy from logits (an
element-wise op), mean squared error, accuracy."""

from __future__ import annotations

import numpy as np

from .elementwise import Elementwise, elementwise
from .indexing import labelled_type, one_hot
from .reduce import argmax
from .registry import Case, Op, apply, public, register, require_float
from .scalar import Sigmoid, Softplus, numpy_softplus
from .shape import expand_dims
from .softmax import log_softmax_of, softmax


@register
class CrossEntropy(Op):
    """``-log softmax(z)[label]`` per example: logits (..., C), integer labels (...) -> losses (...)."""

    name = "cross_entropy"
    planned = True
    derivative_text = ("g (softmax(z) − onehot(y))", "")
    stable_at_extremes = True
    cases = (Case(((4, 5), (4,)), integers={1: 5}), Case(((2, 3, 5), (2, 3)), integers={1: 5}))
    indices = 1

    def infer(self, types):
        require_float(self.name, types[:1])
        return labelled_type(*types)

    def index_bound(self, shapes):
        return shapes[0][-1]

    def reference(self, logits, labels):
        picked = np.take_along_axis(log_softmax_of(logits, -1), labels[..., None], axis=-1)
        return -picked[..., 0]

    def vjp(self, inputs, out, grad, **attrs):
        logits, labels = inputs
        classes = logits.shape[-1]
        return [expand_dims(grad, -1) * (softmax(logits) - one_hot(labels, classes, logits.dtype)), None]


def reduce_loss(losses, reduction: str):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


@public
def cross_entropy(logits, labels, reduction: str = "mean"):
    """Softmax cross-entropy of integer labels, from logits (never from probabilities: that loses precision)."""
    return reduce_loss(apply("cross_entropy", logits, labels), reduction)


@public
def mse(predictions, targets, reduction: str = "mean"):
    difference = predictions - targets
    return reduce_loss(difference * difference, reduction)


@public
def accuracy(logits, labels):
    """Fraction of rows whose largest logit is the label's."""
    return elementwise("equal", argmax(logits, -1), labels).astype(logits.dtype).mean()


@register
class BinaryCrossEntropy(Elementwise):
    """``-[t log p + (1-t) log(1-p)]`` with ``p = sigmoid(z)``, from the logit: ``softplus(z) - z t``."""

    name = "binary_cross_entropy"
    public = None  # binary_cross_entropy() below reduces it
    arguments = ("z", "t")
    stable_at_extremes = True
    domain = ((-3.0, 3.0), (0.0, 1.0))

    def expr(self, z, t):
        return Softplus(z) - z * t

    def derivatives(self, args):
        z, t = args
        return (Sigmoid(z) - t, -z)

    def numpy(self, z, t):
        return numpy_softplus(z) - z * t


@public
def binary_cross_entropy(logits, targets, reduction: str = "mean"):
    """Binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1], computed from the logits."""
    return reduce_loss(elementwise("binary_cross_entropy", logits, targets), reduction)
