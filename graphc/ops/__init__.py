"""The op table (``OPS``) and the public function of every op.

Importing this package registers every op; each op is defined once, in the module of its family.
"""

from . import leaf  # noqa: F401, E402  (registers input, param, constant)
from .elementwise import (  # noqa: E402
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
from .linalg import matmul  # noqa: E402
from .loss import accuracy, cross_entropy, mse  # noqa: E402
from .reduce import argmax, max, mean, sum  # noqa: E402
from .registry import OPS, OUT, Elementwise, Op, apply, register  # noqa: F401  (registry first)
from .shape import (  # noqa: E402
    broadcast_to,
    concat,
    expand_dims,
    gather,
    getitem,
    one_hot,
    reshape,
    squeeze,
    stack,
    stop_gradient,
    transpose,
)
from .softmax import log_softmax, softmax  # noqa: E402


def cast(x, dtype):
    """``x`` converted to ``dtype`` (the only way dtypes change in graphc)."""
    from ..types import as_dtype

    dtype = as_dtype(dtype)
    return x if x.dtype == dtype else apply("cast", x, dtype=dtype.name)
