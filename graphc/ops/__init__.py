"""The op table (``OPS``) and the public function of every op.

Importing this package registers every op; each op is defined once, in the module of its family.
"""

from . import control, fused, leaf  # registers item, fused (built by passes) and input, param, constant
from .elementwise import (
    abs,
    binary_cross_entropy,
    elementwise,
    elu,
    equal,
    exp,
    greater,
    greater_equal,
    identity,
    leaky_relu,
    less,
    less_equal,
    log,
    maximum,
    minimum,
    not_equal,
    power,
    relu,
    selu,
    sigmoid,
    sign,
    softplus,
    softsign,
    sqrt,
    tanh,
    where,
)
from .linalg import matmul
from .loss import accuracy, cross_entropy, mse
from .random import dropout, uniform_like
from .reduce import argmax, max, mean, sum
from .registry import OPS, OUT, Elementwise, Op, apply, register
from .shape import (
    broadcast_to,
    concat,
    expand_dims,
    gather,
    getitem,
    one_hot,
    pick,
    reshape,
    squeeze,
    stack,
    stop_gradient,
    transpose,
)
from .softmax import log_softmax, softmax


def cast(x, dtype):
    """``x`` converted to ``dtype`` (the only way dtypes change in graphc)."""
    from ..types import as_dtype

    dtype = as_dtype(dtype)
    return x if x.dtype == dtype else apply("cast", x, dtype=dtype.name)
