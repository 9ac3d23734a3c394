"""Random graphs drawn from the op table, for property tests of the optimizer (and, later, of the backends).

A graph grows from a few float64 inputs by applying randomly chosen ops to randomly chosen earlier values. Ops with
a restricted domain get arguments mapped into it (log of softplus(x) + 0.1, say), so the graphs stay finite on
ordinary inputs. "Bait" steps build the shapes the rewrite rules look for, so random graphs exercise them too.
"""

import numpy as np
from hypothesis import strategies as st

import graphc
from graphc.ops import OPS, apply

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

# Every structured op of the table (not element-wise, not a leaf, not internal, not random), called as its own
# test cases call it: float inputs come from the graph (a value of the case's shape, or one spread over it), integer
# inputs are fixed labels within the case's bounds.
STRUCTURED = sorted(name for name, op in OPS.items()
                    if not (op.elementwise or op.leaf or op.internal or op.random) and op.cases)


def _spread(x, shape):
    """A value of ``shape`` that depends on every element of ``x``: x itself when it has that shape."""
    if tuple(x.shape) == tuple(shape):
        return x
    pattern = np.linspace(-1.0, 1.0, int(np.prod(shape, dtype=np.int64))).reshape(shape)
    return graphc.broadcast_to(x.mean(), shape) + graphc.constant(pattern)


def _structured(name, x, draw):
    op = OPS[name]
    case = draw(st.sampled_from(op.cases))
    arguments = []
    for position, shape in enumerate(case.shapes):
        if position in case.integers:
            labels = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape) % case.integers[position]
            arguments.append(graphc.constant(labels.astype(np.int64)))
        else:
            arguments.append(_spread(x, shape))
    return apply(name, *arguments, **case.attrs)


BAIT = {
    "mean": lambda x: x.mean(axis=x.ndim - 1, keepdims=True),
    "transpose-twice": lambda x: x.T.T,
    "slice": lambda x: graphc.concat([x[..., :1], x[..., 1:]], axis=x.ndim - 1),
    "reshape": lambda x: x.reshape(-1).reshape(x.shape),
    "dropout-free": lambda x: graphc.stop_gradient(x) * 0.0 + x,
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
                value = _structured(draw(st.sampled_from(STRUCTURED)), x, draw)
            else:
                value = BAIT[draw(st.sampled_from(sorted(BAIT)))](x)
        except graphc.GraphcError:  # shapes that do not combine: draw again
            continue
        if value.dtype == np.float64:  # integer results (argmax) have no gradient to test
            pool.append(value)
    weights = draw(st.lists(st.floats(-2, 2), min_size=len(pool), max_size=len(pool)))
    loss = graphc.constant(0.0, "float64")
    for value, weight in zip(pool[len(inputs):] or pool, weights):
        loss = loss + value.sum() * weight
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    feeds = {name: rng.uniform(-2, 2, shape) for name, shape in SHAPES.items()}
    return loss, inputs, feeds
