"""Python's operators and NumPy-like methods on ``Tensor``, attached here because they are ops: ``a + b`` builds
the node ``add(a, b)`` through the op table, ``x[1:]`` a slice, ``x.T`` a transpose."""

from __future__ import annotations

from ..tensor import Tensor
from .arithmetic import cast
from .elementwise import elementwise
from .linalg import matmul
from .reduce import max, mean, sum
from .shape import reshape, transpose
from .slicing import getitem


def _one_or_many(values: tuple) -> tuple:
    """``f(1, 2)`` and ``f((1, 2))`` mean the same, as in NumPy."""
    return tuple(values[0]) if len(values) == 1 and isinstance(values[0], (tuple, list)) else values


def _binary(name: str):
    return (lambda self, other: elementwise(name, self, other)), (lambda self, other: elementwise(name, other, self))


OPERATORS = {
    "__neg__": lambda self: elementwise("neg", self),
    "__pos__": lambda self: self,
    "__abs__": lambda self: elementwise("abs", self),
    "__matmul__": matmul,
    "__rmatmul__": lambda self, other: matmul(other, self),
    "__getitem__": getitem,
    "T": property(transpose),
    "transpose": lambda self, *axes: transpose(self, _one_or_many(axes) or None),
    "reshape": lambda self, *shape: reshape(self, _one_or_many(shape)),
    "astype": cast,
    "sum": lambda self, axis=None, keepdims=False: sum(self, axis, keepdims),
    "mean": lambda self, axis=None, keepdims=False: mean(self, axis, keepdims),
    "max": lambda self, axis=None, keepdims=False: max(self, axis, keepdims),
}
for _method, _op in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div"), ("pow", "pow")):
    OPERATORS[f"__{_method}__"], OPERATORS[f"__r{_method}__"] = _binary(_op)
for _method, _op in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal")):
    OPERATORS[f"__{_method}__"] = _binary(_op)[0]  # Python reflects a comparison itself (a < b is b > a)

for _name, _function in OPERATORS.items():
    setattr(Tensor, _name, _function)
