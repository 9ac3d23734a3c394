"""Reverse-mode differentiation: accumulation over uses, undoing broadcasting, unconnected and intermediate
variables, and gradients of gradients."""

import numpy as np
import pytest

import graphc

RNG = np.random.default_rng(2)


def test_a_value_used_several_times_receives_the_sum_of_its_gradients():
    x = graphc.input("x", (3,), "float64")
    (gx,) = graphc.grad((x * x + x + graphc.exp(x)).sum(), [x])
    value = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(graphc.evaluate(gx, {"x": value}), 2 * value + 1 + np.exp(value))


def test_broadcasting_is_undone_in_the_gradient():
    x = graphc.input("x", ("batch", 4), "float64")
    b = graphc.param("b", (4,), dtype="float64")
    c = graphc.param("c", (1, 4), dtype="float64")
    s = graphc.param("s", (), dtype="float64")
    y = ((x + b) * c * s).sum()
    gb, gc, gs = graphc.grad(y, [b, c, s])
    assert gb.shape == (4,) and gc.shape == (1, 4) and gs.shape == ()
    feeds = {"x": RNG.normal(size=(5, 4)), "b": RNG.normal(size=4), "c": RNG.normal(size=(1, 4)), "s": np.array(1.5)}
    assert graphc.check_grad(y, [b, c, s], feeds) < 1e-8
    np.testing.assert_allclose(graphc.evaluate(gb, feeds), 5 * feeds["c"][0] * 1.5)


def test_unconnected_variables_get_zeros_and_intermediates_can_be_differentiated():
    x = graphc.input("x", (3,), "float64")
    unused = graphc.param("unused", (2, 2), dtype="float64")
    h = graphc.tanh(x)
    y = (h * h).sum()
    gh, gu = graphc.grad(y, [h, unused])
    value = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(graphc.evaluate(gh, {"x": value}), 2 * np.tanh(value))
    np.testing.assert_array_equal(graphc.evaluate(gu, {"unused": np.ones((2, 2))}), np.zeros((2, 2)))


def test_non_scalar_outputs_need_an_upstream_gradient():
    x = graphc.input("x", (3,), "float64")
    with pytest.raises(graphc.DifferentiationError, match="scalar"):
        graphc.grad(x * 2, [x])
    upstream = graphc.input("upstream", (3,), "float64")
    (gx,) = graphc.grad(x * x, [x], grad_output=upstream)
    np.testing.assert_allclose(graphc.evaluate(gx, {"x": np.arange(3.0), "upstream": np.ones(3)}), 2 * np.arange(3.0))


def test_the_backward_graph_is_made_of_ordinary_nodes():
    x = graphc.input("x", ("batch", 3))
    W = graphc.param("W", (3, 2))
    (gW,) = graphc.grad(graphc.sigmoid(x @ W).sum(), [W])
    ops = {node.op.name for node in graphc.Graph([gW.node]).nodes}
    assert {"matmul", "transpose", "mul", "sub"} <= ops
    assert all(name in graphc.OPS for name in ops)


SECOND_ORDER = {
    "tanh": lambda x, W: graphc.tanh(x @ W).sum(),
    "sigmoid": lambda x, W: (graphc.sigmoid(x @ W) ** 2).sum(),
    "softmax_cross_entropy": lambda x, W: graphc.cross_entropy(x @ W, graphc.constant(np.array([0, 1, 0, 1]))),
    "log_softmax": lambda x, W: (graphc.log_softmax(x @ W) * graphc.softmax(x @ W)).sum(),
    "elu_softplus": lambda x, W: (graphc.elu(x @ W) + graphc.softplus(x @ W)).sum(),
    "max_reduction": lambda x, W: ((x @ W) ** 2).max(axis=1).sum(),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_gradients_of_gradients(name):
    """d/dW of <dL/dW, R>: the backward graph is itself differentiable."""
    x = graphc.input("x", (4, 3), "float64")
    W = graphc.param("W", (3, 2), dtype="float64")
    R = graphc.input("R", (3, 2), "float64")
    (gW,) = graphc.grad(SECOND_ORDER[name](x, W), [W])
    feeds = {"x": RNG.normal(size=(4, 3)), "W": RNG.normal(size=(3, 2)), "R": RNG.normal(size=(3, 2))}
    assert graphc.check_grad((gW * R).sum(), [W, x], feeds) < 1e-6


def test_check_grad_detects_a_wrong_gradient():
    """check_grad itself can fail: a rule with a deliberate error is caught."""
    from graphc.ops import OPS

    tanh = OPS["tanh"]
    original = type(tanh).derivatives
    type(tanh).derivatives = lambda self, args: (1 - graphc.ops.OUT,)
    try:
        x = graphc.input("x_wrong", (5,), "float64")
        error = graphc.check_grad(graphc.tanh(x * 1.0001).sum(), [x], {"x_wrong": RNG.normal(size=5)})
    finally:
        type(tanh).derivatives = original
    assert error > 1e-2
