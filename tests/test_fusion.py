"""Element-wise fusion: groups, no recomputation, one iteration space, no cycles, NaN-exact expressions."""

import numpy as np

import graphc
from graphc.models.lstm_step import lstm_step
from graphc.passes.fuse import fusible

RNG = np.random.default_rng(5)


def lstm_graph():
    n, m = 5, 3
    x = graphc.input("x", ("batch", n), "float64")
    h = graphc.input("h", ("batch", m), "float64")
    c = graphc.input("c", ("batch", m), "float64")
    W = graphc.param("W", (n, 4 * m), dtype="float64")
    U = graphc.param("U", (m, 4 * m), dtype="float64")
    b = graphc.param("b", (4 * m,), dtype="float64")
    h_next, c_next = lstm_step(x, h, c, W, U, b)
    loss = (h_next * h_next).sum() + c_next.sum()
    feeds = {**graphc.init_params([W, U, b], seed=0), "x": RNG.normal(size=(4, n)), "h": RNG.normal(size=(4, m)),
             "c": RNG.normal(size=(4, m))}
    return [h_next, c_next, loss], graphc.grad(loss, [W, U, b, x, h, c]), feeds


def fused_nodes(outputs):
    return [n for n in graphc.Graph([o.node for o in outputs]).nodes if n.op.kernel]


def cell_kernels(outputs):
    """Fused kernels over the cell's (batch, m) shape (the gate pre-activations' sum, (batch, 4m), is another)."""
    return [k for k in fused_nodes(outputs) if k.type[0].shape[-1] == 3]


def test_an_lstm_cell_forward_fuses_into_one_kernel():
    forward, _, feeds = lstm_graph()
    optimized = graphc.optimize(forward[:2])
    kernels = cell_kernels(optimized)
    assert len(kernels) == 1
    members = [m.op.name for m in kernels[0].attr("members")]
    assert members.count("sigmoid") == 3 and members.count("tanh") == 2
    for ours, reference in zip(graphc.evaluate(optimized, feeds), graphc.evaluate(forward[:2], feeds)):
        np.testing.assert_allclose(ours, reference, rtol=1e-12)


def test_an_lstm_cell_forward_and_backward_fuse_and_match():
    forward, gradients, feeds = lstm_graph()
    outputs = forward + gradients
    optimized = graphc.optimize(outputs)
    kernels = cell_kernels(optimized)
    remaining = [n for n in graphc.Graph([o.node for o in optimized]).nodes if fusible(n)]
    assert 1 <= len(kernels) <= 2
    assert all(n.type.shape != ("batch", 3) for n in remaining if n.op.name in ("sigmoid", "tanh"))
    for ours, reference in zip(graphc.evaluate(optimized, feeds), graphc.evaluate(outputs, feeds)):
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


def test_fusion_never_recomputes_a_node():
    forward, gradients, feeds = lstm_graph()
    unfused = graphc.optimize(forward + gradients, fuse=False)
    before = [n for n in graphc.Graph([o.node for o in unfused]).nodes if n.op.name != "constant"]
    fused = graphc.optimize(forward + gradients)
    after = graphc.Graph([o.node for o in fused]).nodes
    members = [m for n in after if n.op.name == "fused" for m in n.attr("members")]
    assert len(members) == len(set(members))  # no node in two kernels
    kept = [n for n in after if n.op.name not in ("fused", "item", "constant")]
    assert len(members) + len(kept) == len(before)


def test_a_smaller_shape_is_not_recomputed_inside_a_larger_loop():
    x = graphc.input("x", (3, 4), "float64")
    b = graphc.input("b", (4,), "float64")
    y = graphc.tanh(graphc.sigmoid(b) * 2.0 + x) * x
    kernels = fused_nodes([graphc.optimize(y)])
    assert [k.type[0].shape for k in kernels] == [(4,), (3, 4)]  # sigmoid(b)*2 over 4 elements, the rest over 12
    assert "sigmoid" not in [m.op.name for m in kernels[1].attr("members")]


def test_groups_that_would_form_a_cycle_are_not_merged():
    x = graphc.input("x", (3, 3), "float64")
    a = graphc.tanh(x)
    y = graphc.exp(a @ a) * a  # a -> matmul -> exp*a: a's group cannot absorb the product
    optimized = graphc.optimize(y)
    kernels = fused_nodes([optimized])
    groups = [sorted(m.op.name for m in k.attr("members")) for k in kernels]
    assert ["exp", "mul"] in groups  # the product's consumers fuse...
    assert not any("tanh" in group and "exp" in group for group in groups)  # ...but not with a, which feeds it
    (product,) = [n for n in graphc.Graph([optimized.node]).nodes if n.op.name == "matmul"]
    assert all(not i.op.kernel or "exp" not in [m.op.name for m in i.attr("members")]
               for i in product.inputs + tuple(j for i in product.inputs for j in i.inputs))
    value = {"x": RNG.normal(size=(3, 3))}
    np.testing.assert_allclose(graphc.evaluate(optimized, value), graphc.evaluate(y, value), rtol=1e-12)


def test_fused_expressions_keep_nan_and_inf_semantics():
    """Neither building nor evaluating a kernel may simplify x*0 or x - x to 0: both are NaN for x = Inf."""
    x = graphc.input("x", (3,), "float64")
    a = graphc.abs(x)
    for y in (graphc.tanh(x * 0.0 + 1.0), graphc.softplus(a - a) * 2.0):
        optimized = graphc.optimize(y)
        assert fused_nodes([optimized])
        result = graphc.evaluate(optimized, {"x": np.array([np.inf, 1.0, -np.inf])})
        expected = graphc.evaluate(y, {"x": np.array([np.inf, 1.0, -np.inf])})
        assert np.isnan(result[0]) and np.isnan(result[2]) and np.isclose(result[1], expected[1])


def test_gradients_flow_through_fused_kernels():
    """Differentiating an optimized graph works too (each kernel's derivative comes from its expressions)."""
    x = graphc.input("x", (2, 3), "float64")
    y = graphc.optimize((graphc.sigmoid(x) * graphc.tanh(x) + x * x).sum())
    assert fused_nodes([y])
    assert graphc.check_grad(y, [x], {"x": RNG.normal(size=(2, 3))}) < 1e-8
