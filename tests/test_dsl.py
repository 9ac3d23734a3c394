"""The DSL's operators and functions against NumPy on concrete values."""

import numpy as np
import pytest

import graphc

RNG = np.random.default_rng(1)
A = RNG.normal(size=(4, 3)).astype(np.float32)
B = RNG.normal(size=(3, 5)).astype(np.float32)


def run(tensor, **feeds):
    return graphc.evaluate(tensor, feeds)


def test_python_operators():
    a, b = graphc.input("a", (4, 3)), graphc.input("b", (3, 5))
    cases = [
        (a + 1.5, A + 1.5), (2 - a, 2 - A), (a * a, A * A), (a / 2, A / 2), (abs(a) ** 1.5, np.abs(A) ** 1.5),
        (-a, -A), (a @ b, A @ B), (a.T, A.T), (a[1:3, ::2], A[1:3, ::2]), (a[-1], A[-1]),
        (a[:, None, 0], A[:, None, 0]),
        (a[..., 1], A[..., 1]), (a.sum(), A.sum()), (a.mean(axis=0), A.mean(axis=0)), (a.max(axis=1), A.max(axis=1)),
        (a.reshape(3, 4), A.reshape(3, 4)), (a.transpose(1, 0), A.T),
    ]
    for tensor, expected in cases:
        np.testing.assert_allclose(run(tensor, a=A, b=B), expected, rtol=1e-5, atol=1e-6)


def test_comparisons_and_where():
    a = graphc.input("a", (4, 3))
    np.testing.assert_array_equal(run(a > 0, a=A), A > 0)
    np.testing.assert_array_equal(run(a <= 0.5, a=A), A <= 0.5)
    np.testing.assert_allclose(run(graphc.where(a > 0, a, 0.0), a=A), np.where(A > 0, A, 0))


def test_matmul_with_vectors_and_batches():
    v = graphc.input("v", (3,))
    m = graphc.input("m", (2, 4, 3))
    vector = np.arange(3, dtype=np.float32)
    batch = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(run(m @ v, m=batch, v=vector), batch @ vector, rtol=1e-6)
    np.testing.assert_allclose(run(v @ graphc.constant(B), v=vector), vector @ B, rtol=1e-6)
    np.testing.assert_allclose(run(v @ v, v=vector), vector @ vector)


def test_concat_stack_gather_one_hot():
    a = graphc.input("a", (4, 3))
    ids = graphc.input("ids", (2, 2), "int64")
    indices = np.array([[0, 3], [3, 1]])
    np.testing.assert_array_equal(run(graphc.concat([a, a * 2], axis=1), a=A), np.concatenate([A, A * 2], 1))
    np.testing.assert_array_equal(run(graphc.stack([a, a], axis=1), a=A), np.stack([A, A], 1))
    np.testing.assert_array_equal(run(a[ids], a=A, ids=indices), A[indices])
    np.testing.assert_array_equal(run(graphc.one_hot(ids, 4), ids=indices), np.eye(4)[indices])


def test_mean_over_a_named_dimension_divides_by_its_bound_size():
    x = graphc.input("x", ("batch", 3))
    for rows in (2, 5):
        value = RNG.normal(size=(rows, 3)).astype(np.float32)
        np.testing.assert_allclose(run(x.mean(), x=value), value.mean(), rtol=1e-6)


def test_losses_and_accuracy():
    logits = graphc.input("logits", (4, 3))
    labels = graphc.input("labels", (4,), "int64")
    y = np.array([0, 2, 1, 1])
    shifted = A - A.max(1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    expected = -log_probabilities[np.arange(4), y].mean()
    np.testing.assert_allclose(run(graphc.cross_entropy(logits, labels), logits=A, labels=y), expected, rtol=1e-6)
    np.testing.assert_allclose(run(graphc.accuracy(logits, labels), logits=A, labels=y), np.mean(A.argmax(1) == y))
    np.testing.assert_allclose(run(graphc.mse(logits, 1.0), logits=A), np.mean((A - 1) ** 2), rtol=1e-6)


def test_a_tensor_has_no_truth_value():
    x = graphc.input("x", (2,))
    with pytest.raises(TypeError, match="truth value"):
        if x > 0:
            pass


def test_initializers_are_deterministic_and_independent_per_parameter():
    W = graphc.param("W", (64, 32), init="glorot_uniform")
    Q = graphc.param("Q", (16, 16), init="orthogonal")
    first = graphc.init_params([W, Q], seed=7)
    assert np.array_equal(first["W"], graphc.init_params([W], seed=7)["W"])  # Q's presence changes nothing
    assert not np.array_equal(first["W"], graphc.init_params([W], seed=8)["W"])
    assert np.abs(first["W"]).max() <= np.sqrt(6 / 96)
    np.testing.assert_allclose(first["Q"] @ first["Q"].T, np.eye(16), atol=1e-5)
    for name in graphc.init.INITIALIZERS:
        value = graphc.init_params([graphc.param(f"p_{name}", (8, 4), init=name)], 0)[f"p_{name}"]
        assert value.shape == (8, 4) and value.dtype == np.float32
