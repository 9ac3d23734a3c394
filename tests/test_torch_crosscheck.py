"""Composite graphs against PyTorch (CPU) with the same weights, in float64: values and every gradient.

PyTorch is a test dependency that CI installs (torch==2.13.0); these tests import it unconditionally, so a
missing install fails them instead of skipping them.
"""

import numpy as np
import torch

import graphc
from graphc.models.lstm_step import lstm_step

RNG = np.random.default_rng(3)


def assert_close(ours, theirs, tolerance=1e-10):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=tolerance, atol=tolerance)


def test_mlp_with_softmax_cross_entropy():
    sizes = [(6, 8), (8, 8), (8, 4)]
    x = graphc.input("x", ("batch", 6), "float64")
    labels = graphc.input("labels", ("batch",), "int64")
    params, h = [], x
    for i, (n_in, n_out) in enumerate(sizes):
        W = graphc.param(f"W{i}", (n_in, n_out), dtype="float64")
        b = graphc.param(f"b{i}", (n_out,), init="normal", dtype="float64")
        params += [W, b]
        h = h @ W + b
        if i < len(sizes) - 1:
            h = graphc.tanh(h) if i == 0 else graphc.relu(h)
    loss = graphc.cross_entropy(h, labels)
    values = graphc.init_params(params, seed=1)
    feeds = {**values, "x": RNG.normal(size=(5, 6)), "labels": np.array([0, 3, 1, 2, 3])}
    ours = graphc.evaluate([loss] + graphc.grad(loss, params), feeds)

    t = {name: torch.tensor(value, requires_grad=True) for name, value in values.items()}
    h = torch.tensor(feeds["x"])
    h = torch.tanh(h @ t["W0"] + t["b0"])
    h = torch.relu(h @ t["W1"] + t["b1"])
    h = h @ t["W2"] + t["b2"]
    theirs = torch.nn.functional.cross_entropy(h, torch.tensor(feeds["labels"]))
    theirs.backward()
    assert_close(ours[0], theirs)
    for param, gradient in zip(params, ours[1:]):
        assert_close(gradient, t[param.name].grad)


def test_hand_written_lstm_step_matches_torch_lstm_cell():
    n, m, batch = 5, 3, 4
    x = graphc.input("x", ("batch", n), "float64")
    h = graphc.input("h", ("batch", m), "float64")
    c = graphc.input("c", ("batch", m), "float64")
    W = graphc.param("W", (n, 4 * m), dtype="float64")
    U = graphc.param("U", (m, 4 * m), dtype="float64")
    b = graphc.param("b", (4 * m,), init="normal", dtype="float64")
    h_next, c_next = lstm_step(x, h, c, W, U, b)
    weights = graphc.input("weights", ("batch", m), "float64")  # a non-trivial loss of both outputs
    loss = (h_next * weights).sum() + (c_next * c_next).sum()
    wrt = [W, U, b, x, h, c]
    feeds = {**graphc.init_params([W, U, b], seed=2), "x": RNG.normal(size=(batch, n)),
             "h": RNG.normal(size=(batch, m)), "c": RNG.normal(size=(batch, m)), "weights": RNG.normal(size=(batch, m))}
    ours = graphc.evaluate([h_next, c_next] + graphc.grad(loss, wrt), feeds)

    cell = torch.nn.LSTMCell(n, m, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(feeds["W"].T))
        cell.weight_hh.copy_(torch.tensor(feeds["U"].T))
        cell.bias_ih.copy_(torch.tensor(feeds["b"]))
        cell.bias_hh.zero_()
    tx, th, tc = (torch.tensor(feeds[k], requires_grad=True) for k in ("x", "h", "c"))
    h_torch, c_torch = cell(tx, (th, tc))
    ((h_torch * torch.tensor(feeds["weights"])).sum() + (c_torch * c_torch).sum()).backward()
    assert_close(ours[0], h_torch)
    assert_close(ours[1], c_torch)
    gW, gU, gb, gx, gh, gc = ours[2:]
    assert_close(gW, cell.weight_ih.grad.T)
    assert_close(gU, cell.weight_hh.grad.T)
    assert_close(gb, cell.bias_ih.grad)
    for ours_grad, tensor in ((gx, tx), (gh, th), (gc, tc)):
        assert_close(ours_grad, tensor.grad)


def test_activations_and_losses_match_torch_at_extreme_inputs():
    z = np.array([-1e4, -30.0, -1.0, 0.5, 30.0, 1e4])
    t = np.array([0.0, 1.0, 0.3, 1.0, 0.0, 1.0])
    x = graphc.input("z", (6,), "float64")
    target = graphc.input("t", (6,), "float64")
    cases = {
        "sigmoid": (graphc.sigmoid(x), torch.sigmoid),
        "tanh": (graphc.tanh(x), torch.tanh),
        "softplus": (graphc.softplus(x), torch.nn.functional.softplus),
        "elu": (graphc.elu(x), torch.nn.functional.elu),
        "selu": (graphc.selu(x), torch.selu),
        "softsign": (graphc.softsign(x), torch.nn.functional.softsign),
        "leaky_relu": (graphc.leaky_relu(x), torch.nn.functional.leaky_relu),
        "log_softmax": (graphc.log_softmax(x), lambda v: torch.log_softmax(v, 0)),
        "bce": (graphc.binary_cross_entropy(x, target, reduction="none"),
                lambda v: torch.nn.functional.binary_cross_entropy_with_logits(v, torch.tensor(t), reduction="none")),
    }
    for name, (ours, theirs) in cases.items():
        (gradient,) = graphc.grad(ours.sum(), [x])
        value, grad_value = graphc.evaluate([ours, gradient], {"z": z, "t": t})
        tz = torch.tensor(z, requires_grad=True)
        reference = theirs(tz)
        reference.sum().backward()
        np.testing.assert_allclose(value, reference.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(grad_value, tz.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=name)
