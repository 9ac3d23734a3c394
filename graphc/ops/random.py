"""Random ops. Each call builds a distinct node (a fresh ``instance`` attribute), so neither interning nor CSE
ever merges two draws; evaluators pass a seeded generator ``rng`` to their reference."""

from __future__ import annotations

import itertools

from ..types import TensorType
from .elementwise import elementwise
from .registry import Case, Op, apply, public, register, require_float

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


@public
def dropout(x, rate: float):
    """Inverted dropout: each element is zeroed with probability ``rate`` and the survivors scaled by 1/(1-rate)."""
    if not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1), not {rate}")
    if rate == 0:
        return x
    return elementwise("where", uniform_like(x) >= rate, x * (1.0 / (1.0 - rate)), 0.0)
