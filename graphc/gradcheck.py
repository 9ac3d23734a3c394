"""``check_grad``: the backward graph compared with central finite differences, in float64."""

from __future__ import annotations

import numpy as np

from .autodiff import grad
from .backends.reference import evaluate
from .errors import DifferentiationError, user_location
from .ops import input as graph_input
from .tensor import Tensor


def check_grad(y: Tensor, wrt, feeds: dict, *, directions: int = 3, epsilon: float = 1e-6, seed: int = 0) -> float:
    """The largest relative error between the analytic and the numerical directional derivative of ``y``.

    ``wrt`` are inputs or parameters (fed by name). A non-scalar ``y`` is reduced to ``sum(y * r)`` with a fixed
    random ``r``. Each of ``directions`` random unit directions v compares <grad, v> with
    ``(f(x + eps v) - f(x - eps v)) / 2 eps``; the error is relative to the gradient's norm, so a direction
    nearly orthogonal to the gradient cannot hide a wrong one.
    """
    wrt = [wrt] if isinstance(wrt, Tensor) else list(wrt)
    names = []
    for w in wrt:
        if not w.node.op.fed:
            raise DifferentiationError(f"check_grad perturbs inputs and parameters by name; {w!r} is neither",
                                       user_location())
        names.append(w.name)
    rng = np.random.default_rng(seed)
    feeds = {name: _float64(value) for name, value in feeds.items()}
    loss, feeds = _scalarize(y, feeds, rng)
    gradients = [np.asarray(g, dtype=np.float64) for g in evaluate(grad(loss, wrt), feeds, float64=True)]
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in gradients))
    worst = 0.0
    for _ in range(directions):
        steps = [rng.normal(size=np.shape(feeds[name])) for name in names]
        length = np.sqrt(sum(float(np.sum(s * s)) for s in steps)) or 1.0
        steps = [s / length for s in steps]
        analytic = sum(float(np.sum(g * s)) for g, s in zip(gradients, steps))

        numeric = (_shifted(loss, feeds, names, steps, epsilon) - _shifted(loss, feeds, names, steps, -epsilon)) / (
            2 * epsilon)
        scale = max(abs(analytic), abs(numeric), norm, 1e-8)
        worst = max(worst, abs(analytic - numeric) / scale)
    return worst


def _shifted(loss, feeds, names, steps, distance) -> float:
    moved = dict(feeds)
    for name, step in zip(names, steps):
        moved[name] = feeds[name] + distance * step
    return float(evaluate(loss, moved, float64=True))


def _float64(value):
    array = np.asarray(value)
    return array.astype(np.float64) if array.dtype.kind == "f" else array


def _scalarize(y: Tensor, feeds: dict, rng) -> tuple[Tensor, dict]:
    if y.shape == ():
        return y, feeds
    shape = np.shape(evaluate(y, feeds, float64=True))
    projection = graph_input("check_grad.projection", y.shape, y.dtype)
    return (y * projection).sum(), {**feeds, "check_grad.projection": rng.normal(size=shape)}
