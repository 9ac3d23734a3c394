"""Layers: objects that create their parameters once (named ``<layer name>.<parameter>``) and build graph nodes each
time they are called. ``Dense`` and ``Embedding`` here; the recurrent layers are in ``recurrent.py``."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, user_location
from ..ops import gather, param, relu, sigmoid, tanh
from ..tensor import Tensor, scope

ACTIVATIONS = {None: None, "linear": None, "tanh": tanh, "relu": relu, "sigmoid": sigmoid}


class Layer:
    """Parameters by their short names (``layer.params["W"]``), all named ``<name>.<short name>`` in the graph."""

    def __init__(self, name: str, dtype="float32"):
        self.name = name
        self.dtype = dtype
        self.params: dict[str, Tensor] = {}

    def param(self, short: str, shape, init: str) -> Tensor:
        tensor = param(f"{self.name}.{short}", shape, init=init, dtype=self.dtype)
        self.params[short] = tensor
        return tensor

    def parameter_count(self) -> int:
        return int(sum(np.prod(p.shape) for p in self.params.values()))

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k} {tuple(p.shape)}" for k, p in self.params.items())
        return f"{type(self).__name__}({self.name!r}: {shapes})"


def activation(name):
    """The activation function called ``name`` (None for "linear" or None); an unknown name is a ShapeError."""
    if name not in ACTIVATIONS:
        raise ShapeError(f"unknown activation {name!r}; known: {', '.join(str(k) for k in ACTIVATIONS)}",
                         user_location())
    return ACTIVATIONS[name]


class Dense(Layer):
    """``g(x·W + b)`` over the last axis. Parameters: ``W`` (inputs, outputs), ``b`` (outputs,)."""

    def __init__(self, inputs: int, outputs: int, activation_name=None, *, bias: bool = True, name: str = "dense",
                 init: str = "glorot_uniform", dtype="float32"):
        super().__init__(name, dtype)
        self.function = activation(activation_name)
        self.W = self.param("W", (inputs, outputs), init)
        self.b = self.param("b", (outputs,), "zeros") if bias else None

    def __call__(self, x: Tensor) -> Tensor:
        with scope(self.name):
            y = x @ self.W
            if self.b is not None:
                y = y + self.b
            return self.function(y) if self.function else y


class Embedding(Layer):
    """Rows of a table by integer id: ids of any shape -> shape + (dim,). Parameter: ``table`` (vocabulary, dim)."""

    def __init__(self, vocabulary: int, dim: int, *, name: str = "embedding", init: str = "normal", dtype="float32"):
        super().__init__(name, dtype)
        self.table = self.param("table", (vocabulary, dim), init)

    def __call__(self, ids: Tensor) -> Tensor:
        with scope(self.name):
            return gather(self.table, ids)
