"""Leaves of a graph: inputs and parameters (values given at evaluation by name) and constants."""

from __future__ import annotations

import numpy as np

from ..types import TensorType
from .registry import Op, register


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
    fed = True

    def reference(self, **attrs):
        raise RuntimeError("parameters are fed by the interpreter")


@register
class Constant(Leaf):
    name = "constant"

    def infer(self, types, value):
        return TensorType(value.array.shape, value.array.dtype)

    def reference(self, value):
        return value.array
