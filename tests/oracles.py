"""Independent NumPy/SciPy formulations of every op, the expected values of the table-driven tests.

Written differently from the ops' own reference implementations wherever a different formula exists, so a
mistake in one is not copied into the other. An op missing here fails ``test_every_op_is_complete``.
"""

import numpy as np
import scipy.special

SELU_LAMBDA, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772


def _slices(index):
    return tuple(slice(a, None if b < 0 else b, c) for a, b, c in index)


def _pad_slice(x, like, index):
    out = np.zeros(like.shape, x.dtype)
    out[_slices(index)] = x
    return out


def _scatter_add(indices, updates, rows):
    out = np.zeros((rows,) + updates.shape[indices.ndim:], updates.dtype)
    flat_updates = updates.reshape((-1,) + updates.shape[indices.ndim:])
    for i, row in enumerate(indices.reshape(-1)):
        out[row] += flat_updates[i]
    return out


def _cross_entropy(logits, labels):
    log_probabilities = scipy.special.log_softmax(logits, axis=-1)
    flat = log_probabilities.reshape(-1, logits.shape[-1])
    return -flat[np.arange(flat.shape[0]), labels.reshape(-1)].reshape(labels.shape)


def _softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


ORACLES = {
    "identity": lambda x: x,
    "neg": lambda x: 0 - x,
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "pow": lambda x, y: np.exp(y * np.log(x)),
    "maximum": lambda x, y: np.where(x >= y, x, y),
    "minimum": lambda x, y: np.where(x <= y, x, y),
    "abs": lambda x: np.where(x < 0, -x, x),
    "sign": lambda x: (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype),
    "cast": lambda x, dtype: x.astype(dtype),
    "exp": np.exp,
    "log": np.log,
    "sqrt": lambda x: x**0.5,
    "sigmoid": lambda x: 0.5 * (1 + np.tanh(x / 2)),
    "tanh": lambda x: 2 * scipy.special.expit(2 * x) - 1,
    "relu": lambda x: x * (x > 0),
    "leaky_relu": lambda x, alpha=0.01: np.where(x >= 0, x, alpha * x),
    "elu": lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1)),
    "selu": lambda x: SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * (np.exp(np.minimum(x, 0)) - 1)),
    "softplus": _softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "binary_cross_entropy": lambda z, t: -(t * scipy.special.log_expit(z) + (1 - t) * scipy.special.log_expit(-z)),
    "greater": lambda x, y: x > y,
    "greater_equal": lambda x, y: x >= y,
    "less": lambda x, y: x < y,
    "less_equal": lambda x, y: x <= y,
    "equal": lambda x, y: x == y,
    "not_equal": lambda x, y: x != y,
    "where": lambda c, x, y: np.choose(np.broadcast_to(c, np.broadcast_shapes(c.shape, x.shape, y.shape)).astype(int),
                                       np.broadcast_arrays(y, x, c)[:2]),
    "sum": lambda x, axes, keepdims: np.add.reduce(x, axis=axes, keepdims=keepdims),
    "max": lambda x, axes, keepdims: np.maximum.reduce(x, axis=axes, keepdims=keepdims),
    "argmax": lambda x, axis: np.argmax(x, axis=axis),
    "axes_size": lambda x, axes: np.array(np.prod([x.shape[a] for a in axes]), x.dtype),
    "matmul": lambda a, b: np.einsum("...ik,...kj->...ij", a, b),
    "reshape": lambda x, shape: x.reshape(shape),
    "transpose": lambda x, axes: np.transpose(x, axes),
    "broadcast_to": lambda x, shape: np.broadcast_to(x, shape),
    "broadcast_like": lambda x, like: np.broadcast_to(x, like.shape),
    "reshape_like": lambda x, like: x.reshape(like.shape),
    "concat": lambda *xs, axis: np.concatenate(xs, axis=axis),
    "slice": lambda x, index: x[_slices(index)],
    "pad_slice": _pad_slice,
    "gather": lambda table, indices: table[indices],
    "scatter_add": _scatter_add,
    "pick": lambda z, labels: np.squeeze(np.take_along_axis(z, labels[..., None], -1), -1),
    "one_hot": lambda labels, depth, dtype: np.eye(depth, dtype=dtype)[labels],
    "stop_gradient": lambda x: x,
    "uniform": lambda like, instance: np.random.default_rng(0).random(like.shape),  # evaluate's default seed
    "dropout": lambda x, u, rate=0.5: np.multiply(x, u >= rate) / (1 - rate),
    "softmax": lambda x, axis: scipy.special.softmax(x, axis=axis),
    "log_softmax": lambda x, axis: scipy.special.log_softmax(x, axis=axis),
    "cross_entropy": _cross_entropy,
}
