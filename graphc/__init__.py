"""graphc: a symbolic computation-graph compiler for neural networks.

Declare a model as a graph of tensors with named dimensions, differentiate it into an explicit backward graph,
optimize the two together, and evaluate them with the NumPy reference interpreter. This module only re-exports
the public API.
"""

from . import init
from .autodiff import grad
from .backends.compile import compile, compile_step
from .backends.reference import evaluate
from .dsl import Tensor, constant, input, name, param, scope
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
from .model import Model
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
    dropout,
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
    uniform_like,
    where,
)
from .passes import optimize
from .render import GraphvizMissing, render
from .scan import scan

__version__ = "0.1.0"
