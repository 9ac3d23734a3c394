"""Parameter initializers (math.md: zeros, uniform/normal, Glorot, He, orthogonal) and ``init_params``.

Each initializer is ``f(shape, rng, dtype) -> array``. Every parameter draws from its own generator, seeded by the
run's seed and the parameter's name, so adding a parameter does not change the others' initial values.
"""

from __future__ import annotations

import zlib

import numpy as np

from .errors import InitializerError
from .ir import Graph, feed_nodes, topological_order
from .tensor import node_of


def _fans(shape) -> tuple[int, int]:
    """Fan-in and fan-out of a weight used as ``x @ W`` (rows are inputs, the last axis outputs)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    return int(np.prod(shape[:-1])), shape[-1]


def zeros(shape, rng, dtype):
    return np.zeros(shape, dtype)


def ones(shape, rng, dtype):
    return np.ones(shape, dtype)


def uniform(low: float = -0.05, high: float = 0.05):
    def init(shape, rng, dtype):
        return rng.uniform(low, high, shape).astype(dtype)

    return init


def normal(std: float = 0.05, mean: float = 0.0):
    def init(shape, rng, dtype):
        return rng.normal(mean, std, shape).astype(dtype)

    return init


def glorot_uniform(shape, rng, dtype):
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype)


def glorot_normal(shape, rng, dtype):
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape).astype(dtype)


def he_uniform(shape, rng, dtype):
    limit = np.sqrt(6.0 / _fans(shape)[0])
    return rng.uniform(-limit, limit, shape).astype(dtype)


def he_normal(shape, rng, dtype):
    return rng.normal(0.0, np.sqrt(2.0 / _fans(shape)[0]), shape).astype(dtype)


def orthogonal(shape, rng, dtype):
    """A (semi-)orthogonal matrix, the usual start for recurrent weights."""
    if len(shape) < 2:
        raise InitializerError(f"orthogonal initialization needs a matrix, got shape {tuple(shape)}")
    rows, columns = int(np.prod(shape[:-1])), shape[-1]
    q, r = np.linalg.qr(rng.normal(size=(max(rows, columns), min(rows, columns))))
    q = q * np.sign(np.diag(r))  # makes the result unique (uniformly distributed over orthogonal matrices)
    matrix = q if rows >= columns else q.T
    return matrix.reshape(shape).astype(dtype)


def pretrained(table):
    """An initializer that gives a parameter the values of ``table`` (pretrained word vectors as an embedding's
    table: ``graphc.data.read_word_vectors``); a parameter of another shape is an error."""
    table = np.asarray(table)

    def init(shape, rng, dtype):
        if tuple(shape) != table.shape:
            raise InitializerError(f"pretrained values of shape {table.shape} for a parameter of shape {tuple(shape)}")
        return table.astype(dtype)

    return init


INITIALIZERS = {
    "zeros": zeros,
    "ones": ones,
    "uniform": uniform(),
    "normal": normal(),
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "xavier_uniform": glorot_uniform,
    "xavier_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "orthogonal": orthogonal,
}


def init_params(tensors, seed: int = 0) -> dict[str, np.ndarray]:
    """Initial values {name: array} for every parameter that ``tensors`` (parameters or outputs) depend on."""
    nodes = [node_of(t) for t in (tensors if isinstance(tensors, (list, tuple)) else [tensors])]
    graph = Graph(nodes)
    feed_nodes(graph)  # rejects two different parameters sharing a name
    values = {}
    for node in topological_order(nodes):
        if not node.op.trainable:
            continue
        name, init = node.attr("name"), node.attr("init")
        shape, dtype = tuple(node.type.shape), node.type.dtype
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        function = INITIALIZERS[init] if isinstance(init, str) else init
        value = np.asarray(function(shape, rng, dtype))
        if value.shape != shape or value.dtype != dtype:
            raise InitializerError(f"initializer of {name!r} returned {value.dtype}{value.shape}, "
                                   f"expected {dtype}{shape}", node.location)
        values[name] = value if value.flags.c_contiguous else value.copy(order="C")  # trainers update in place
    return values
