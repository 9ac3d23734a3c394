"""The user's front end: ``Tensor`` with Python operators, and the leaves ``input``, ``param`` and ``constant``.

A Tensor is a thin handle on an IR node; every operator builds (or finds) a node through the op table, so shape and
dtype errors surface on the user's line. ``==`` compares graph identity, as for any Python object used as a key;
element-wise equality is ``graphc.equal``.
"""

from __future__ import annotations

import numpy as np

from . import ir
from .errors import InitializerError, ShapeError, user_location
from .types import DTYPES, as_dtype, as_shape, format_shape, is_concrete


class Tensor:
    """A symbolic value in a graph."""

    __slots__ = ("node",)
    __array_priority__ = 1000  # ndarray + Tensor calls Tensor.__radd__ instead of broadcasting over the Tensor

    def __init__(self, node: ir.Node):
        self.node = node

    # --- facts ---------------------------------------------------------------------------------------------------
    @property
    def shape(self):
        return self.node.type.shape

    @property
    def dtype(self) -> np.dtype:
        return self.node.type.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def op(self) -> str:
        return self.node.op.name

    @property
    def name(self) -> str | None:
        """The user's name of an input or parameter, else None."""
        return self.node.attr("name")

    def __repr__(self) -> str:
        label = f"{self.op} {self.name!r}" if self.name else self.op
        return f"Tensor({label}, {self.dtype.name}{format_shape(self.shape)}, at {self.node.location})"

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .render import mimebundle

        return mimebundle(self, repr(self))

    def __hash__(self) -> int:
        return hash(self.node)

    def __eq__(self, other) -> bool:
        return isinstance(other, Tensor) and other.node is self.node

    def __bool__(self):
        raise TypeError("a symbolic tensor has no truth value; use graphc.where for data-dependent choices")

    def __iter__(self):
        raise TypeError("a symbolic tensor cannot be iterated; index it or use graphc.scan")

    # --- operators -----------------------------------------------------------------------------------------------
    def __add__(self, other):
        return _ops().elementwise("add", self, other)

    def __radd__(self, other):
        return _ops().elementwise("add", other, self)

    def __sub__(self, other):
        return _ops().elementwise("sub", self, other)

    def __rsub__(self, other):
        return _ops().elementwise("sub", other, self)

    def __mul__(self, other):
        return _ops().elementwise("mul", self, other)

    def __rmul__(self, other):
        return _ops().elementwise("mul", other, self)

    def __truediv__(self, other):
        return _ops().elementwise("div", self, other)

    def __rtruediv__(self, other):
        return _ops().elementwise("div", other, self)

    def __pow__(self, other):
        return _ops().power(self, other)

    def __rpow__(self, other):
        return _ops().power(other, self)

    def __matmul__(self, other):
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul(other, self)

    def __neg__(self):
        return _ops().elementwise("neg", self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops().abs(self)

    def __lt__(self, other):
        return _ops().less(self, other)

    def __le__(self, other):
        return _ops().less_equal(self, other)

    def __gt__(self, other):
        return _ops().greater(self, other)

    def __ge__(self, other):
        return _ops().greater_equal(self, other)

    def __getitem__(self, index):
        return _ops().getitem(self, index)

    # --- methods mirroring NumPy ---------------------------------------------------------------------------------
    @property
    def T(self):
        return _ops().transpose(self)

    def transpose(self, *axes):
        return _ops().transpose(self, _one_or_many(axes) or None)

    def reshape(self, *shape):
        return _ops().reshape(self, _one_or_many(shape))

    def astype(self, dtype):
        return _ops().cast(self, dtype)

    def sum(self, axis=None, keepdims: bool = False):
        return _ops().sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return _ops().mean(self, axis, keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return _ops().max(self, axis, keepdims)


def _one_or_many(values: tuple) -> tuple:
    """``f(1, 2)`` and ``f((1, 2))`` mean the same, as in NumPy."""
    return tuple(values[0]) if len(values) == 1 and isinstance(values[0], (tuple, list)) else values


def _ops():
    from . import ops

    return ops


def _leaf(op: str, attrs: dict) -> Tensor:
    from .ops.registry import apply

    return apply(op, **attrs)


def input(name: str, shape, dtype="float32") -> Tensor:  # noqa: A001 - the DSL's word for graph inputs
    """A value fed at each evaluation as ``feeds[name]``; shape entries may be named dimensions (``"batch"``)."""
    return _leaf("input", {"name": _check_name(name), "shape": _shape("input", name, shape),
                           "dtype": as_dtype(dtype).name})


def param(name: str, shape, init="glorot_uniform", dtype="float32") -> Tensor:
    """A trainable parameter of fixed shape; ``init`` is an initializer name (see ``graphc.init``) or a callable
    ``init(shape, rng, dtype) -> array``."""
    from .init import INITIALIZERS

    shape = _shape("param", name, shape)
    if not is_concrete(shape):
        raise ShapeError(f"param {name!r}: parameters need fixed sizes, got {format_shape(shape)}", user_location())
    if isinstance(init, str) and init not in INITIALIZERS:
        known = ", ".join(INITIALIZERS)
        raise InitializerError(f"param {name!r}: unknown initializer {init!r}; known: {known}", user_location())
    if not isinstance(init, str) and not callable(init):
        raise InitializerError(f"param {name!r}: init must be a name or a callable, got {init!r}", user_location())
    return _leaf("param", {"name": _check_name(name), "shape": shape, "dtype": as_dtype(dtype).name, "init": init})


def name(tensor: Tensor, label: str) -> Tensor:
    """Give an intermediate value a name for pictures (``e = graphc.name(a + 2 * b, "e")``); returns it."""
    ir.set_display_name(tensor.node, _check_name(label))
    return tensor


def constant(value, dtype=None) -> Tensor:
    """A constant tensor. Python floats default to float32, ints to int64; arrays keep their dtype."""
    from .ops.leaf import ConstantValue

    if isinstance(value, Tensor):
        return value if dtype is None else value.astype(dtype)
    if dtype is None:
        if isinstance(value, np.ndarray) and value.dtype.name in DTYPES:
            dtype = value.dtype
        elif isinstance(value, (bool, np.bool_)):
            dtype = "bool"
        elif isinstance(value, (int, np.integer)):
            dtype = "int64"
        else:
            dtype = "float32"
    array = np.asarray(value, dtype=as_dtype(dtype))
    return _leaf("constant", {"value": ConstantValue(array)})


def _shape(kind: str, name, shape):
    """``shape`` normalized; a negative size or a malformed name is a ShapeError on the user's line."""
    try:
        return as_shape(shape)
    except (TypeError, ValueError) as error:
        raise ShapeError(f"{kind} {name!r}: {error}", user_location()) from None


def _check_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"a name must be a non-empty string, got {name!r}")
    return name


scope = ir.scope
