"""graphc: a symbolic computation-graph compiler for neural networks.

Declare a model as a graph of tensors with named dimensions, differentiate it into an explicit backward graph,
and evaluate both with the NumPy reference interpreter. This module only re-exports the public API.
"""

from . import init  # noqa: F401
from .autodiff import grad
from .backends.reference import evaluate
from .dsl import Tensor, constant, input, param, scope
from .errors import (
    BindingError,
    DifferentiationError,
    DTypeError,
    FeedError,
    GraphcError,
    InitializerError,
    NumericalError,
    ShapeError,
)
from .gradcheck import check_grad
from .init import init_params
from .ir import Graph, Node
from .ops import (
    OPS,
    abs,
    accuracy,
    argmax,
    binary_cross_entropy,
    broadcast_to,
    cast,
    concat,
    cross_entropy,
    elu,
    equal,
    exp,
    expand_dims,
    gather,
    greater,
    greater_equal,
    identity,
    leaky_relu,
    less,
    less_equal,
    log,
    log_softmax,
    matmul,
    max,
    maximum,
    mean,
    minimum,
    mse,
    not_equal,
    one_hot,
    pick,
    power,
    relu,
    reshape,
    selu,
    sigmoid,
    sign,
    softmax,
    softplus,
    softsign,
    sqrt,
    squeeze,
    stack,
    stop_gradient,
    sum,
    tanh,
    transpose,
    where,
)

__version__ = "0.1.0"

__all__ = [
    "BindingError", "DTypeError", "DifferentiationError", "FeedError", "Graph", "GraphcError", "InitializerError",
    "Node", "NumericalError", "OPS", "ShapeError", "Tensor", "abs", "accuracy", "argmax", "binary_cross_entropy",
    "broadcast_to", "cast", "check_grad", "concat", "constant", "cross_entropy", "elu", "equal", "evaluate", "exp",
    "expand_dims", "gather", "grad", "greater", "greater_equal", "identity", "init", "init_params", "input",
    "leaky_relu", "less", "less_equal", "log", "log_softmax", "matmul", "max", "maximum", "mean", "minimum", "mse",
    "not_equal", "one_hot", "param", "pick", "power", "relu", "reshape", "scope", "selu", "sigmoid", "sign", "softmax",
    "softplus", "softsign", "sqrt", "squeeze", "stack", "stop_gradient", "sum", "tanh", "transpose", "where",
]
