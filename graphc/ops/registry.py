"""The op table: what an op is, how one is registered, and how a node of it is built.

An op is one class holding everything about it: its shape rule (``infer``), its NumPy reference implementation
(``reference``), its derivative rule (``vjp``, which builds graph nodes) and flags. Element-wise ops are SymPy scalar
expressions instead; their derivatives come from ``sympy.diff`` unless the op overrides them with a form written in
terms of its output. ``OPS`` is the single table that the interpreter, autodiff, the tests and the backends read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from .. import ir
from ..errors import DTypeError, GraphcError, ShapeError, user_location
from ..types import TensorType, broadcast_shapes, format_shape, is_float

OPS: dict[str, Op] = {}

OUT = sympy.Symbol("out", real=True)  # an element-wise op's own output, usable in its derivative rules


@dataclass(frozen=True)
class Case:
    """How the table-driven tests call an op: input shapes, attributes, and the inputs that are not floats.

    ``integers`` maps an input's position to the exclusive upper bound of its values (labels, indices);
    ``booleans`` lists boolean inputs; ``domain`` gives (low, high) per float input (None: the op's default).
    """

    shapes: tuple
    attrs: dict = field(default_factory=dict)
    integers: dict = field(default_factory=dict)
    booleans: tuple = ()
    domain: tuple | None = None


def register(cls):
    """Class decorator: instantiate the op and put it in ``OPS`` under its name."""
    op = cls()
    if op.name in OPS:
        raise RuntimeError(f"op {op.name!r} is registered twice")
    OPS[op.name] = op
    return cls


class Op:
    """Base class of every op; subclasses set ``name`` and override the methods that apply."""

    name: str = ""
    differentiable = True  # False: its inputs receive no gradient through it (comparisons, one_hot, ...)
    commutative = False  # inputs may be put in canonical order (CSE)
    random = False  # never merged with an equal-looking node
    elementwise = False
    leaf = False  # inputs, parameters, constants
    fed = False  # its value is given at each evaluation by name (inputs and parameters)
    shape_only: tuple[int, ...] = ()  # inputs read for their shape only, never their values
    nested = False  # runs a subgraph (a loop body): its reference implementation gets ``run(outputs, given)``
    internal = False  # built by passes (fused kernels, projections), never by users: tested through the passes
    stable_at_extremes = False  # math.md: finite values and gradients for inputs with |x| up to 1e4
    domain: tuple = (-3.0, 3.0)  # where tests draw float inputs: (low, high), or one such pair per input
    cases: tuple[Case, ...] = ()  # how tests call it; every non-leaf op needs at least one
    derivative_text: tuple[str, ...] = ()  # how pictures write d out / d input_i (g: the upstream gradient)

    # --- the three parts of every op -------------------------------------------------------------------------------
    def infer(self, types: Sequence[TensorType], **attrs) -> TensorType:
        """The output type, or ShapeError/DTypeError saying why the inputs do not fit."""
        raise NotImplementedError(self.name)

    def reference(self, *arrays: np.ndarray, **attrs) -> np.ndarray:
        """The exact NumPy result: the oracle every backend is tested against."""
        raise NotImplementedError(self.name)

    def vjp(self, inputs: Sequence, out, grad, **attrs) -> list:
        """Gradients of the inputs as Tensors (or None), given the output ``out`` and its gradient ``grad``.

        Results may have the output's broadcast shape: autodiff reduces them to each input's shape.
        """
        raise NotImplementedError(self.name)

    def local_derivatives(self, names: tuple[str, ...] = (), **attrs) -> tuple[str, ...]:
        """The local derivative with respect to each input, as text for pictures of the chain rule."""
        return self.derivative_text

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def node_of(value) -> ir.Node:
    node = getattr(value, "node", value)
    if not isinstance(node, ir.Node):
        raise TypeError(f"expected a graphc tensor, got {type(value).__name__}")
    return node


def apply(op_name: str, /, *inputs, **attrs):
    """Build (or find) the node ``name(inputs; attrs)`` and return it as a Tensor.

    Shape and dtype rules run here, so a mismatch is reported where the user built the graph.
    """
    from ..dsl import Tensor

    op = OPS[op_name]
    nodes = tuple(node_of(v) for v in inputs)

    def infer():
        try:
            return op.infer([n.type for n in nodes], **attrs)
        except GraphcError as error:
            raise type(error)(f"{op_name}: {error.message}", user_location()) from None
        except ValueError as error:  # broadcasting and axis helpers speak ValueError
            shapes = ", ".join(format_shape(n.shape) for n in nodes)
            raise ShapeError(f"{op_name}: {error} (input shapes {shapes})", user_location()) from None

    return Tensor(ir.intern(op, nodes, attrs, infer, user_location()))


def require_float(op: str, types: Sequence[TensorType]):
    for t in types:
        if not is_float(t.dtype):
            raise DTypeError(f"needs floating-point inputs, got {t.dtype.name}")


def require_same_dtype(types: Sequence[TensorType]):
    dtypes = [t.dtype for t in types]
    if any(d != dtypes[0] for d in dtypes):
        names = " and ".join(d.name for d in dtypes)
        raise DTypeError(f"dtypes {names} differ; graphc does not promote silently, use .astype()")


class Elementwise(Op):
    """An op applied independently to each element (with NumPy broadcasting), defined by a SymPy expression.

    Subclasses give ``arguments`` (symbol names), ``expr``, ``numpy`` and optionally ``derivatives``.
    """

    elementwise = True
    arguments: tuple[str, ...] = ("x",)
    float_only = True  # transcendental ops refuse integer inputs
    output_dtype: str | None = None  # e.g. "bool" for comparisons; None: the inputs' dtype
    sympy_function: Any = None  # a SymPy function F with expr(x) == F(x), to translate F back into this op

    @property
    def cases(self) -> tuple[Case, ...]:
        """Same-shape inputs, and (for several inputs) NumPy broadcasting of a row and a column."""
        same = Case(((3, 4),) * len(self.arguments))
        if len(self.arguments) == 1:
            return (same,)
        broadcast = Case(((3, 1),) + ((4,),) * (len(self.arguments) - 1))
        return (same, broadcast)

    def symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(sympy.Symbol(a, real=True) for a in self.arguments)

    def expr(self, *args: sympy.Expr, **attrs) -> sympy.Expr:
        raise NotImplementedError(self.name)

    def numpy(self, *arrays, **attrs) -> np.ndarray:
        raise NotImplementedError(self.name)

    def derivatives(self, args: tuple[sympy.Symbol, ...], **attrs) -> tuple[sympy.Expr, ...]:
        """d out / d arg for each argument, in terms of the arguments and ``OUT``; SymPy's by default."""
        expression = self.expr(*args, **attrs)
        return tuple(sympy.diff(expression, a) for a in args)

    def infer(self, types, **attrs):
        if len(types) != len(self.arguments):
            raise ShapeError(f"takes {len(self.arguments)} inputs, got {len(types)}")
        operands = self.operand_types(types)
        if self.float_only:
            require_float(self.name, operands)
        require_same_dtype(operands)
        shape = broadcast_shapes(*(t.shape for t in types))
        dtype = np.dtype(self.output_dtype) if self.output_dtype else operands[0].dtype
        return TensorType(shape, dtype)

    def local_derivatives(self, names: tuple[str, ...] = (), **attrs) -> tuple[str, ...]:
        """SymPy's derivatives, with the output written out (tanh: 1 - tanh(x)^2), pretty-printed; ``names``
        replaces the argument symbols with the names of the actual inputs."""
        from .scalar import formula

        args = self.symbols()
        expression = self.expr(*args, **attrs)
        renamed = {a: sympy.Symbol(n, real=True) for a, n in zip(args, names)}
        return tuple(formula(sympy.sympify(d).subs(OUT, expression).subs(renamed))
                     for d in self.derivatives(args, **attrs))

    def operand_types(self, types):
        """The inputs whose dtypes must agree (``where`` excludes its condition)."""
        return types

    def reference(self, *arrays, **attrs):
        result = np.asarray(self.numpy(*arrays, **attrs))
        return result.astype(self.output_dtype or arrays[0].dtype, copy=False)

    def vjp(self, inputs, out, grad, **attrs):
        from .sympy_bridge import to_graph

        args = self.symbols()
        environment = dict(zip(args, inputs))
        environment[OUT] = out
        grads = []
        for tensor, derivative in zip(inputs, self.derivatives(args, **attrs)):
            if derivative == 0 or not is_float(tensor.dtype):
                grads.append(None)
            elif derivative == 1:
                grads.append(grad)
            else:
                grads.append(grad * to_graph(derivative, environment, grad.dtype))
        return grads
