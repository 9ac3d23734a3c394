"""Tests generated from the op table: every op's completeness, forward values, SymPy expression, gradient
(finite differences in float64) and, for activations and losses, behaviour at |x| up to 1e4."""

import numpy as np
import pytest
import sympy

import graphc
from graphc.ops import Elementwise, Op
from graphc.ops.scalar import NUMPY_FUNCTIONS

from .op_cases import CASES, COMPUTED, build
from .oracles import ORACLES


def _overrides(op, method):
    return getattr(type(op), method) is not getattr(Op, method)


@pytest.mark.parametrize("op", COMPUTED, ids=lambda op: op.name)
def test_every_op_is_complete(op):
    assert _overrides(op, "infer"), f"{op.name} has no shape rule"
    assert _overrides(op, "reference") or op.elementwise and type(op).numpy is not Elementwise.numpy, \
        f"{op.name} has no reference implementation"
    if op.differentiable:
        assert _overrides(op, "vjp"), f"{op.name} has no derivative rule"
    if op.elementwise:
        args = op.symbols()
        assert isinstance(op.expr(*args), sympy.Basic)
        assert len(op.derivatives(args)) == len(args)
    if op.internal:  # built by passes only: tested by comparing optimized graphs with unoptimized ones
        return
    assert op.cases, f"{op.name} has no test case"
    assert op.name in ORACLES, f"{op.name} has no independent oracle in tests/oracles.py"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op,case", CASES)
def test_forward_matches_numpy(op, case, dtype):
    out, tensors, _, feeds = build(op, case, dtype)
    got = graphc.evaluate(out, feeds)
    expected = ORACLES[op.name](*feeds.values(), **case.attrs)
    assert got.shape == np.shape(expected)
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


ELEMENTWISE_CASES = [p for p in CASES if p.values[0].elementwise]


@pytest.mark.parametrize("op,case", ELEMENTWISE_CASES)
def test_sympy_expression_matches_reference(op, case):
    """The SymPy expression (what fused kernels compute) and the NumPy reference agree."""
    out, tensors, _, feeds = build(op, case)
    function = sympy.lambdify(op.symbols(), op.expr(*op.symbols(), **case.attrs), modules=[NUMPY_FUNCTIONS, "numpy"])
    arrays = list(feeds.values())
    if op.name == "cast":
        arrays = [a.astype(case.attrs["dtype"]) for a in arrays]
    expected = np.broadcast_to(function(*arrays), out.shape)
    np.testing.assert_allclose(graphc.evaluate(out, feeds).astype(float), expected.astype(float), rtol=1e-12)


DIFFERENTIABLE = [p for p in CASES if p.values[0].differentiable
                  and np.dtype(build(*p.values)[0].dtype).kind == "f" and build(*p.values)[2]]


@pytest.mark.parametrize("op,case", DIFFERENTIABLE)
def test_gradient_matches_finite_differences(op, case):
    out, tensors, floats, feeds = build(op, case)
    assert graphc.check_grad(out, floats, feeds) < 1e-6


STABLE = [p for p in DIFFERENTIABLE if p.values[0].stable_at_extremes]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op,case", STABLE)
def test_extreme_inputs_stay_finite(op, case, dtype):
    out, tensors, floats, feeds = build(op, case, dtype, extreme=True)
    loss = out.sum()
    values = graphc.evaluate([out] + graphc.grad(loss, floats), feeds)
    for value in values:
        assert np.all(np.isfinite(value)), f"{op.name} gave NaN/Inf at extreme inputs"
    expected = ORACLES[op.name](*[np.asarray(v, np.float64) if v.dtype.kind == "f" else v for v in feeds.values()],
                                **case.attrs)
    np.testing.assert_allclose(values[0], expected, rtol=1e-5 if dtype == "float32" else 1e-10, atol=1e-6)
    if dtype == "float64":
        assert graphc.check_grad(out, floats, feeds, epsilon=1e-4) < 1e-4


def test_extreme_values_reach_every_activation_and_loss():
    """The extreme-input tests must cover everything math.md lists, or a new activation could slip past them."""
    required = {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softplus", "softsign",
                "softmax", "log_softmax", "cross_entropy", "binary_cross_entropy"}
    assert required <= {p.values[0].name for p in STABLE}


def test_named_scalar_functions_are_their_textbook_formulas():
    """Sigmoid and Softplus are named for stable evaluation; rewritten, they are 1/(1+e^-x) and log(1+e^x)."""
    from graphc.ops.scalar import Sigmoid, Softplus

    x = sympy.Symbol("x", real=True)
    for value in (-3.0, 0.0, 0.5, 4.0):
        assert float(Sigmoid(x).rewrite(sympy.exp).subs(x, value)) == pytest.approx(1 / (1 + np.exp(-value)))
        assert float(Softplus(x).rewrite(sympy.log).subs(x, value)) == pytest.approx(np.log1p(np.exp(value)))


def test_nondifferentiable_ops_pass_no_gradient():
    x = graphc.input("x", (3,), "float64")
    y = (x * graphc.stop_gradient(x)).sum()
    (gx,) = graphc.grad(y, [x])
    value = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(graphc.evaluate(gx, {"x": value}), value)  # d(x * c)/dx = c, not 2x
