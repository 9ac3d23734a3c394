"""Graphs that tests of several files build: a user's recurrent cell, and a product large enough to be split
between graphc's threads (also run in new processes, as ``python -c`` code that imports this module)."""

import numpy as np

import graphc as gc


def custom_cell(steps: int, width: int, hidden: int, seed: int, scale: float = 1.0):
    """A user's cell (peephole-style gates reading the cell state, a weight used twice per step) in float64: its
    loss and gradients, and feeds for ``batch`` rows drawn with ``seed`` (weights times ``scale``)."""
    x = gc.input("x", (steps, "batch", width), "float64")
    h0 = gc.input("h0", ("batch", hidden), "float64")
    W = gc.param("W", (width, 2 * hidden), dtype="float64")
    U = gc.param("U", (hidden, 2 * hidden), dtype="float64")
    P = gc.param("P", (hidden, hidden), dtype="float64")

    def step(carry, xt):
        h, c = carry
        z = xt @ W + h @ U
        gate = gc.sigmoid(z[:, :hidden] + c @ P)
        c = gate * c + (1 - gate) * gc.tanh(z[:, hidden:])
        return (gc.tanh(c @ P) * gate, c), c

    (h, c), cs = gc.scan(step, (h0, h0 * 0.5), x)
    loss = (cs * cs).sum() + h.sum()
    outputs = [loss] + gc.grad(loss, [x, h0, W, U, P])

    def feeds(batch: int) -> dict:
        rng = np.random.default_rng(seed)
        return {"x": rng.normal(size=(steps, batch, width)), "h0": rng.normal(size=(batch, hidden)),
                "W": rng.normal(size=(width, 2 * hidden)) * scale, "U": rng.normal(size=(hidden, 2 * hidden)) * scale,
                "P": rng.normal(size=(hidden, hidden)) * scale}

    return outputs, feeds


def large_product():
    """``tanh(x @ w).sum()`` and its gradient for w, (256 x 512) @ (512 x 512) in float32, and its feeds."""
    x, w = gc.input("x", (256, 512)), gc.param("w", (512, 512))
    loss = gc.tanh(x @ w).sum()
    rng = np.random.default_rng(0)
    feeds = {"x": rng.standard_normal((256, 512)).astype(np.float32),
             "w": (rng.standard_normal((512, 512)) / 30).astype(np.float32)}
    return [loss, *gc.grad(loss, [w])], feeds
