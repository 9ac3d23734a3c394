"""The IR: hash-consing, immutability, metadata, deterministic order, named dimensions."""

import gc
import inspect
import weakref

import numpy as np
import pytest

import graphc
from graphc import ir
from graphc.types import dim_symbol


def test_same_op_inputs_and_attributes_give_the_same_node():
    x = graphc.input("x", ("batch", 3))
    assert graphc.tanh(x).node is graphc.tanh(x).node
    assert (x + 1).node is (x + 1).node
    assert x.sum(axis=0).node is not x.sum(axis=1).node  # attributes are part of identity
    assert graphc.leaky_relu(x, 0.1).node is not graphc.leaky_relu(x, 0.2).node


def test_equal_constants_merge_but_signed_zeros_do_not():
    assert graphc.constant(2.0).node is graphc.constant(2.0).node
    assert graphc.constant(0.0).node is not graphc.constant(-0.0).node
    assert graphc.constant(2.0).node is not graphc.constant(2.0, "float64").node


def test_nodes_are_immutable():
    node = graphc.input("x", (2,)).node
    with pytest.raises(AttributeError):
        node.op = None


def test_the_users_line_and_scope_are_recorded():
    x = graphc.input("x", (2,))
    with graphc.scope("encoder"), graphc.scope("layer1"):
        y, line = graphc.exp(x) * 3.5, inspect.currentframe().f_lineno
    assert y.node.location.endswith(f"test_ir.py:{line}")
    assert y.node.scope == ("encoder", "layer1")
    assert x.node.scope == ()


def test_unused_nodes_are_released():
    x = graphc.input("released", (2,))
    y = graphc.sigmoid(x) * 2.0
    before = len(ir._interned)
    released = weakref.ref(y.node)
    del x, y
    gc.collect()
    assert released() is None
    assert len(ir._interned) <= before - 4  # input, sigmoid, constant 2.0, mul


def test_topological_order_is_deterministic_and_inputs_come_first():
    x = graphc.input("x", (3,))
    a, b = graphc.exp(x), graphc.log(x)
    y = (a * b + a).sum()
    graph = graphc.Graph([y.node])
    order = graph.nodes
    positions = {node: i for i, node in enumerate(order)}
    for node in order:
        assert all(positions[i] < positions[node] for i in node.inputs)
    assert [n.op.name for n in order] == [n.op.name for n in graphc.Graph([y.node]).nodes]
    assert graph.users[a.node] == tuple(n for n in order if a.node in n.inputs)
    assert graph.count_by_op()["exp"] == 1


def test_graph_exports_to_networkx():
    x = graphc.input("x", (3,))
    y = graphc.exp(x) + x
    digraph = graphc.Graph([y.node]).to_networkx()
    assert digraph.number_of_nodes() == 3 and digraph.has_edge(x.node, y.node)


def test_named_dimensions_flow_through_reshape_and_bind_at_evaluation():
    h = graphc.input("h", ("time", "batch", 5))
    flat = h.reshape(-1, 5)
    assert flat.shape == (dim_symbol("time") * dim_symbol("batch"), 5)
    assert str(h[:, -1].shape) == "(time, 5)" or h[:, -1].shape == (dim_symbol("time"), 5)
    value = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    np.testing.assert_array_equal(graphc.evaluate(flat, {"h": value}), value.reshape(6, 5))
    np.testing.assert_array_equal(graphc.evaluate(h[1:, -1], {"h": value}), value[1:, -1])


def test_reshape_infers_a_named_size_and_refuses_one_that_does_not_divide():
    h = graphc.input("h", ("time", "batch", 4))
    flat = h.reshape("batch", -1)
    assert flat.shape == (dim_symbol("batch"), dim_symbol("time") * 4)
    steps = graphc.input("steps", (dim_symbol("time") * dim_symbol("batch") + dim_symbol("batch"), 3))
    assert steps.reshape(dim_symbol("time") + 1, -1).shape == (dim_symbol("time") + 1, 3 * dim_symbol("batch"))
    with pytest.raises(graphc.ShapeError, match="cannot infer -1"):
        h.reshape(3, -1)
    with pytest.raises(graphc.ShapeError, match="cannot infer -1"):
        h.reshape("time", 3, -1)


def test_python_scalars_take_the_tensors_dtype():
    x = graphc.input("x", (2,), "float64")
    assert (x * 2).dtype == np.float64 and (2 ** x).dtype == np.float64
    assert (np.float32(1.0) + graphc.input("y", (2,))).dtype == np.float32
