"""One step of an LSTM cell, written out (math.md), with a loss that depends on both of its outputs.

Gates are stacked along the last axis in PyTorch's order (input, forget, candidate, output), so the weights map
one-to-one onto ``torch.nn.LSTMCell`` (transposed).
"""

import graphc


def lstm_step(x, h, c, W, U, b):
    """(h_t, c_t) from x_t, h_{t-1}, c_{t-1}; W: (n, 4m), U: (m, 4m), b: (4m,)."""
    z = x @ W + h @ U + b
    m = h.shape[-1]
    gates = (z[:, k * m:(k + 1) * m] for k in range(4))
    # Named as a textbook names them, so pictures of the cell say which gate is which.
    i, f, g, o = (graphc.name(function(gate), label) for function, gate, label in
                  zip((graphc.sigmoid, graphc.sigmoid, graphc.tanh, graphc.sigmoid), gates, "ifgo"))
    c_next = graphc.name(f * c + i * g, "c")
    h_next = graphc.name(o * graphc.tanh(c_next), "h")
    return h_next, c_next


def build(inputs=5, hidden=3, dtype="float64") -> graphc.Model:
    x = graphc.input("x", ("batch", inputs), dtype)
    h = graphc.input("h", ("batch", hidden), dtype)
    c = graphc.input("c", ("batch", hidden), dtype)
    with graphc.scope("lstm"):
        W = graphc.param("W", (inputs, 4 * hidden), dtype=dtype)
        U = graphc.param("U", (hidden, 4 * hidden), init="orthogonal", dtype=dtype)
        b = graphc.param("b", (4 * hidden,), init="zeros", dtype=dtype)
        h_next, c_next = lstm_step(x, h, c, W, U, b)
    loss = (h_next * h_next).sum() + c_next.sum()
    return graphc.Model("lstm_step", {"x": x, "h": h, "c": c}, {"h_next": h_next, "c_next": c_next}, loss,
                        config={"inputs": inputs, "hidden": hidden})
