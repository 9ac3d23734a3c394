"""Leaves of a graph: inputs and parameters (values given at evaluation by name) and constants, with ``input``,
``param`` and ``constant``, the functions that make them."""

from __future__ import annotations

import numpy as np

from ..errors import InitializerError, ShapeError, user_location
from ..init import INITIALIZERS
from ..tensor import Tensor, check_name
from ..types import DTYPES, TensorType, as_dtype, as_shape, format_shape, is_concrete
from .registry import Op, apply, public, register


class ConstantValue:
    """A constant's array, hashable by its bytes so equal constants intern to one node (0.0 and -0.0 differ)."""

    __slots__ = ("array", "_key")

    def __init__(self, array: np.ndarray):
        array = np.array(array, copy=True)
        array.flags.writeable = False
        self.array = array
        self._key = (array.dtype.str, array.shape, array.tobytes())

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other) -> bool:
        return isinstance(other, ConstantValue) and self._key == other._key

    def __repr__(self) -> str:
        if self.array.ndim == 0:
            return repr(self.array.item())
        return f"array{self.array.shape}"


class Leaf(Op):
    leaf = True
    sizes = ("shape",)

    def infer(self, types, name, shape, dtype, **attrs):
        return TensorType(shape, np.dtype(dtype))

    def vjp(self, inputs, out, grad, **attrs):
        return []


@register
class Input(Leaf):
    """Data given at each evaluation: ``feeds[name]``."""

    name = "input"
    fed = True

    def reference(self, **attrs):
        raise RuntimeError("inputs are fed by the interpreter")


@register
class Param(Leaf):
    """A trainable parameter: its value is fed like an input; ``init`` says how ``init_params`` fills it."""

    name = "param"
    trainable = True
    fed = True

    def reference(self, **attrs):
        raise RuntimeError("parameters are fed by the interpreter")


@register
class Constant(Leaf):
    name = "constant"
    literal = True

    def infer(self, types, value):
        return TensorType(value.array.shape, value.array.dtype)

    def reference(self, value):
        return value.array


@public
def input(name: str, shape, dtype="float32") -> Tensor:  # noqa: A001 - the DSL's word for graph inputs
    """A value fed at each evaluation as ``feeds[name]``; shape entries may be named dimensions (``"batch"``)."""
    return apply("input", name=check_name(name), shape=_shape("input", name, shape), dtype=as_dtype(dtype).name)


@public
def param(name: str, shape, init="glorot_uniform", dtype="float32") -> Tensor:
    """A trainable parameter of fixed shape; ``init`` is an initializer name (see ``graphc.init``) or a callable
    ``init(shape, rng, dtype) -> array``."""
    shape = _shape("param", name, shape)
    if not is_concrete(shape):
        raise ShapeError(f"param {name!r}: parameters need fixed sizes, got {format_shape(shape)}", user_location())
    if 0 in shape:
        raise ShapeError(f"param {name!r}: every size must be positive, got {format_shape(shape)} (a parameter with "
                         "no elements has nothing to train: a layer width of 0?)", user_location())
    if isinstance(init, str) and init not in INITIALIZERS:
        known = ", ".join(INITIALIZERS)
        raise InitializerError(f"param {name!r}: unknown initializer {init!r}; known: {known}", user_location())
    if not isinstance(init, str) and not callable(init):
        raise InitializerError(f"param {name!r}: init must be a name or a callable, got {init!r}", user_location())
    return apply("param", name=check_name(name), shape=shape, dtype=as_dtype(dtype).name, init=init)


@public
def constant(value, dtype=None) -> Tensor:
    """A constant tensor. Python floats default to float32, ints to int64; arrays keep their dtype."""
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
    return apply("constant", value=ConstantValue(array))


def _shape(kind: str, name, shape):
    """``shape`` normalized; a negative size or a malformed name is a ShapeError on the user's line."""
    try:
        return as_shape(shape)
    except (TypeError, ValueError) as error:
        raise ShapeError(f"{kind} {name!r}: {error}", user_location()) from None
