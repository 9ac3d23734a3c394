"""Random graphs drawn from the op table, for property tests of the optimizer (and, later, of the backends).

A graph grows from a few float64 inputs by applying randomly chosen ops to randomly chosen earlier values. Ops with
a restricted domain get arguments mapped into it (log of softplus(x) + 0.1, say), so the graphs stay finite on
ordinary inputs. "Bait" steps build the shapes the rewrite rules look for, so random graphs exercise them too.
"""

import numpy as np
from hypothesis import strategies as st

import graphc
from graphc.ops.registry import OPS, apply

SHAPES = {"x0": (3, 4), "x1": (3, 4), "x2": (4,), "x3": (3, 1)}


def _positive(x):
    return graphc.softplus(x) + 0.1


def _domain_safe(op_name, arguments):
    """Map the arguments of an element-wise op into its domain."""
    if op_name in ("log", "sqrt"):
        return [_positive(arguments[0])]
    if op_name == "pow":
        return [_positive(arguments[0]), graphc.tanh(arguments[1])]
    if op_name == "div":
        return [arguments[0], _positive(arguments[1])]
    if op_name == "exp":
        return [graphc.tanh(arguments[0])]
    if op_name == "binary_cross_entropy":
        return [arguments[0], graphc.sigmoid(arguments[1])]
    return arguments


ELEMENTWISE = sorted(name for name, op in OPS.items()
                     if op.elementwise and not op.internal and op.output_dtype is None and name != "cast")
COMPARISONS = sorted(name for name, op in OPS.items() if op.elementwise and op.output_dtype == "bool")

STRUCTURED = {
    "sum": lambda x, draw: x.sum(axis=draw(st.integers(0, x.ndim - 1)), keepdims=True),
    "max": lambda x, draw: x.max(axis=draw(st.integers(0, x.ndim - 1)), keepdims=True),
    "mean": lambda x, draw: x.mean(axis=draw(st.integers(0, x.ndim - 1)), keepdims=True),
    "softmax": lambda x, draw: graphc.softmax(x),
    "log_softmax": lambda x, draw: graphc.log_softmax(x),
    "transpose-twice": lambda x, draw: x.T.T,
    "matmul": lambda x, draw: (x @ graphc.constant(np.linspace(-1, 1, x.shape[-1] * x.shape[-1])
                                                   .reshape(x.shape[-1], x.shape[-1]))),
    "slice": lambda x, draw: graphc.concat([x[..., :1], x[..., 1:]], axis=x.ndim - 1),
    "reshape": lambda x, draw: x.reshape(-1).reshape(x.shape),
    "where": lambda x, draw: graphc.where(x > 0.3, x, -x * 0.5),
    "dropout-free": lambda x, draw: graphc.stop_gradient(x) * 0.0 + x,
}

BAIT = {
    "log-softmax": lambda x: graphc.log(graphc.softmax(x)),
    "softplus": lambda x: graphc.log(1.0 + graphc.exp(graphc.tanh(x))),
    "log-sigmoid": lambda x: graphc.log(graphc.sigmoid(x)),
    "identities": lambda x: -(-(x * 1.0 + 0.0)) / 1.0,  # noqa: B002 - double negation on purpose
    "sigmoid": lambda x: 1.0 / (1.0 + graphc.exp(-graphc.tanh(x))),
    "masked": lambda x: x * graphc.where(x > 0, graphc.constant(1.0, "float64"), 0.0),
    "constants": lambda x: (x + 1.0) + 2.0,
}


@st.composite
def random_graph(draw, max_steps: int = 12):
    """(loss, inputs, feeds): a scalar loss over a random graph of float64 inputs."""
    inputs = [graphc.input(name, shape, "float64") for name, shape in SHAPES.items()]
    pool = list(inputs)
    for _ in range(draw(st.integers(1, max_steps))):
        kind = draw(st.sampled_from(["elementwise", "elementwise", "structured", "bait"]))
        x = draw(st.sampled_from(pool))
        try:
            if kind == "elementwise":
                name = draw(st.sampled_from(ELEMENTWISE))
                arity = len(OPS[name].arguments)
                arguments = [x] + [draw(st.sampled_from(pool)) for _ in range(arity - 1)]
                if name == "where":
                    condition = apply(draw(st.sampled_from(COMPARISONS)), arguments[1], arguments[2])
                    value = graphc.where(condition, arguments[1], arguments[2])
                else:
                    value = apply(name, *_domain_safe(name, arguments))
            elif kind == "structured":
                value = STRUCTURED[draw(st.sampled_from(sorted(STRUCTURED)))](x, draw)
            else:
                value = BAIT[draw(st.sampled_from(sorted(BAIT)))](x)
        except graphc.GraphcError:  # shapes that do not combine: draw again
            continue
        pool.append(value)
    weights = draw(st.lists(st.floats(-2, 2), min_size=len(pool), max_size=len(pool)))
    loss = graphc.constant(0.0, "float64")
    for value, weight in zip(pool[len(inputs):] or pool, weights):
        loss = loss + value.sum() * weight
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    feeds = {name: rng.uniform(-2, 2, shape) for name, shape in SHAPES.items()}
    return loss, inputs, feeds
