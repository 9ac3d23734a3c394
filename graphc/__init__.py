"""graphc: a symbolic computation-graph compiler for neural networks.

Declare a model as a graph of tensors with named dimensions, differentiate it into an explicit backward graph,
optimize the two together, and evaluate them with the NumPy reference interpreter or compile them. This module
only re-exports the public API: every op's public function comes from the op table (``graphc.ops.PUBLIC``).
"""

from . import init, ops
from .autodiff import grad
from .backends.compiled import compile
from .backends.reference import evaluate
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
from .loops import scan
from .model import Model
from .optim import compile_step
from .passes import optimize
from .render import GraphvizMissing, render
from .tensor import Tensor, name, scope
from .version import __version__

OPS = ops.OPS
globals().update(ops.PUBLIC)
