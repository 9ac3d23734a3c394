"""What an element-wise op is: a SymPy scalar expression applied to every element (with NumPy broadcasting), a
NumPy function, and (where SymPy's own derivative is less stable or less cheap than a form in terms of the output)
a derivative override. Each element-wise op makes its public function from its arguments and ``parameters``.

Python numbers mixed with tensors take the tensor's dtype; tensors of different dtypes are an error.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import sympy

from ..errors import ShapeError
from ..tensor import Tensor
from ..types import TensorType, broadcast_shapes, is_float
from .leaf import constant
from .registry import OUT, Case, Op, aligned_rows, apply, require_float, require_same_dtype
from .scalar import Select, formula
from .sympy_bridge import to_graph


def elementwise(name: str, *arguments, **attrs):
    """Apply element-wise op ``name``; Python numbers and arrays become constants of the tensors' dtype."""
    tensors = [a for a in arguments if isinstance(a, Tensor)]
    if not tensors:
        raise TypeError(f"{name} needs at least one graphc tensor argument")
    # Numbers take the dtype of the non-boolean tensors; with only a condition (where(c, 1.0, 0.0)), their own.
    dtype = next((t.dtype for t in tensors if t.dtype.kind != "b"), None)
    converted = [a if isinstance(a, Tensor) else constant(a, dtype) for a in arguments]
    return apply(name, *converted, **attrs)


def step(condition) -> sympy.Expr:
    """1 where ``condition`` holds, else 0 (as a selection, so it translates into ``where(c, 1, 0)``)."""
    return Select(condition, 1, 0)


class Elementwise(Op):
    """An op applied independently to each element (with NumPy broadcasting), defined by a SymPy expression.

    Subclasses give ``arguments`` (symbol names), ``expr``, ``numpy`` and optionally ``derivatives``.
    """

    elementwise = True
    planned = True
    arguments: tuple[str, ...] = ("x",)
    float_only = True  # transcendental ops refuse integer inputs
    output_dtype: str | None = None  # e.g. "bool" for comparisons; None: the inputs' dtype
    sympy_function: Any = None  # a SymPy function F with expr(x) == F(x), to translate F back into this op
    parameters: dict[str, float] = {}  # float attributes of the public function, with their defaults
    public: str | None = ""  # the public function's name ("": the op's own; None: none, as for the operators)

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

    def keeps_rows(self, rows, shapes, out, **attrs) -> bool:
        return aligned_rows(rows, shapes, out)

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

    def builder(self):
        """``name(x, ..., alpha=...)``: the op applied to tensors (numbers become constants of their dtype)."""
        if self.public is None:
            return None
        signature = inspect.Signature(
            [inspect.Parameter(a, inspect.Parameter.POSITIONAL_OR_KEYWORD) for a in self.arguments]
            + [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=v)
               for k, v in self.parameters.items()])
        op = self

        def build(*arguments, **keywords):
            bound = signature.bind(*arguments, **keywords)
            bound.apply_defaults()
            values = [bound.arguments[a] for a in op.arguments]
            return elementwise(op.name, *values, **{k: float(bound.arguments[k]) for k in op.parameters})

        build.__name__ = build.__qualname__ = self.public or self.name
        build.__signature__ = signature
        build.__doc__ = type(self).__doc__ or f"Element-wise {self.name} of {', '.join(self.arguments)}."
        build.__module__ = type(self).__module__
        return build
