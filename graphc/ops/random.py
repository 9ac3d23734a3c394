"""Random ops. Each call builds a distinct node (a fresh ``instance`` attribute), so neither interning nor CSE
ever merges two draws; evaluators pass a seeded generator ``rng`` to their reference."""

from __future__ import annotations

import itertools

import numpy as np

from ..types import TensorType
from .elementwise import Elementwise
from .registry import Case, Op, apply, public, register, require_float
from .scalar import GreaterEqual, Select

_instances = itertools.count()


@register
class Uniform(Op):
    """Independent uniform numbers in [0, 1), shaped like ``like`` (whose values are not used)."""

    name = "uniform"
    planned = True
    random = True
    differentiable = False
    cases = (Case(((3, 4),), {"instance": -1}),)

    def infer(self, types, instance):
        require_float(self.name, types)
        return TensorType(types[0].shape, types[0].dtype)

    def reference(self, like, instance, rng):
        return rng.random(like.shape).astype(like.dtype)


@public
def uniform_like(x):
    return apply("uniform", x, instance=next(_instances))


@register
class Dropout(Elementwise):
    """Inverted dropout of ``x`` by uniform numbers ``u``: ``x / (1 - rate)`` where ``u >= rate``, else 0. In
    evaluation the node is ``x`` (``evaluation_input``): ``Model.evaluator`` leaves dropout out."""

    name = "dropout"
    arguments = ("x", "u")
    parameters = {"rate": 0.5}
    public = None  # the public ``dropout(x, rate)`` below draws ``u`` itself
    evaluation_input = 0
    domain = ((-3.0, 3.0), (0.0, 1.0))

    def expr(self, x, u, rate=0.5):
        return Select(GreaterEqual(u, rate), x / (1 - rate), 0)

    def derivatives(self, args, rate=0.5):
        x, u = args
        return (Select(GreaterEqual(u, rate), 1 / (1 - rate), 0), 0)

    def numpy(self, x, u, rate=0.5):
        return np.where(u >= rate, x * x.dtype.type(1 / (1 - rate)), x.dtype.type(0))


@public
def dropout(x, rate: float):
    """Inverted dropout: each element is zeroed with probability ``rate`` and the survivors scaled by 1/(1-rate),
    in training; evaluation (``Model.evaluator``: validation, perplexity, generation) leaves it out."""
    if not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1), not {rate}")
    if rate == 0:
        return x
    return apply("dropout", x, uniform_like(x), rate=float(rate))
