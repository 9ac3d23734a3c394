"""The two-layer ReLU network that can compute XOR: ``h = relu(x W + c)``, ``y = h w + b``, trained with MSE."""

import numpy as np

import graphc
import graphc.data


def build(hidden=2, dtype="float32") -> graphc.Model:
    x = graphc.input("x", ("batch", 2), dtype)
    target = graphc.input("target", ("batch",), dtype)
    with graphc.scope("hidden"):
        W = graphc.param("W", (2, hidden), init="he_uniform", dtype=dtype)
        c = graphc.param("c", (hidden,), init="zeros", dtype=dtype)
        h = graphc.name(graphc.relu(x @ W + c), "h")
    with graphc.scope("output"):
        w = graphc.param("w", (hidden,), init="glorot_uniform", dtype=dtype)
        b = graphc.param("b", (), init="zeros", dtype=dtype)
        y = graphc.name(h @ w + b, "y")
    loss = graphc.mse(y, target)
    return graphc.Model("xor", {"x": x, "target": target}, {"y": y}, loss, config={"hidden": hidden})


def dataset(dtype="float32"):
    """The four points of XOR, each batch all of them (validation on the same four)."""
    points = {"x": np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype), "target": np.array([0, 1, 1, 0], dtype)}
    return graphc.data.Dataset(graphc.data.Examples(points, 4), graphc.data.Examples(points, 4, shuffle=False))
