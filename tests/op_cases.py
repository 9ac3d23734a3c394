"""The op table's test cases, shared by the op tests and every backend's parity tests: each non-internal op with
each of its ``cases``, and ``build``, which applies it to fresh inputs with feeds drawn from its domain."""

import numpy as np
import pytest

import graphc
from graphc.ops import OPS, apply

COMPUTED = [op for op in OPS.values() if not op.leaf]
CASES = [pytest.param(op, case, id=f"{op.name}-{i}") for op in COMPUTED if not op.internal
         for i, case in enumerate(op.cases)]
EXTREMES = np.array([-1e4, -1e3, -50.0, -3.0, -0.5, 0.7, 2.0, 50.0, 1e3, 1e4])


def _domain(op, case, position, float_position):
    domain = case.domain or op.domain
    return domain[float_position] if isinstance(domain[0], tuple) else domain


def build(op, case, dtype="float64", rng=None, extreme=False):
    """The op applied to fresh inputs, and feeds for them."""
    rng = rng or np.random.default_rng(0)
    tensors, feeds, floats = [], {}, []
    for position, shape in enumerate(case.shapes):
        name = f"in{position}"
        if position in case.integers:
            tensor, value = graphc.input(name, shape, "int64"), rng.integers(0, case.integers[position], shape)
        elif position in case.booleans:
            tensor, value = graphc.input(name, shape, "bool"), rng.random(shape) < 0.5
        else:
            low, high = _domain(op, case, position, len(floats))
            value = rng.uniform(low, high, shape)
            if extreme and low < 0:
                value = rng.choice(EXTREMES, shape)
            tensor = graphc.input(name, shape, dtype)
            value = value.astype(dtype)
            floats.append(tensor)
        tensors.append(tensor)
        feeds[name] = value
    return apply(op.name, *tensors, **case.attrs), tensors, floats, feeds
