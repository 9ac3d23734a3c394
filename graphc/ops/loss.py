"""Losses and metrics: multiclass cross-entropy fused from logits, mean squared error, accuracy.

(Binary cross-entropy is element-wise and lives with the element-wise ops.)
"""

from __future__ import annotations

import numpy as np

from .registry import Case, Op, apply, register, require_float
from .shape import labelled_type
from .softmax import _log_softmax


@register
class CrossEntropy(Op):
    """``-log softmax(z)[label]`` per example: logits (..., C), integer labels (...) -> losses (...)."""

    name = "cross_entropy"
    derivative_text = ("g (softmax(z) − onehot(y))", "")
    stable_at_extremes = True
    cases = (Case(((4, 5), (4,)), integers={1: 5}), Case(((2, 3, 5), (2, 3)), integers={1: 5}))

    def infer(self, types):
        require_float(self.name, types[:1])
        return labelled_type(*types)

    def reference(self, logits, labels):
        picked = np.take_along_axis(_log_softmax(logits, -1), labels[..., None], axis=-1)
        return -picked[..., 0]

    def vjp(self, inputs, out, grad, **attrs):
        from .shape import expand_dims, one_hot
        from .softmax import softmax

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


def cross_entropy(logits, labels, reduction: str = "mean"):
    """Softmax cross-entropy of integer labels, from logits (never from probabilities: that loses precision)."""
    return reduce_loss(apply("cross_entropy", logits, labels), reduction)


def mse(predictions, targets, reduction: str = "mean"):
    difference = predictions - targets
    return reduce_loss(difference * difference, reduction)


def accuracy(logits, labels):
    """Fraction of rows whose largest logit is the label's."""
    from .elementwise import equal
    from .reduce import argmax

    return equal(argmax(logits, -1), labels).astype(logits.dtype).mean()
