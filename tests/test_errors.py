"""Bad input gets a clear error naming the op, the shapes or names involved, and the user's line."""

import inspect

import numpy as np
import pytest

import graphc
from graphc.types import dim_symbol


def here(offset: int = 1) -> str:
    """``file:line`` of the line after the caller's (where the failing statement is), as graphc reports it."""
    frame = inspect.currentframe().f_back
    return f"test_errors.py:{frame.f_lineno + offset}"


def test_shape_mismatch_names_op_shapes_and_line():
    x = graphc.input("x", ("B", 64))
    W = graphc.param("W", (32, 10))
    line = here(2)
    with pytest.raises(graphc.ShapeError) as error:
        x @ W
    message = str(error.value)
    assert "matmul" in message and "(B, 64)" in message and "(32, 10)" in message
    assert line in message


def test_broadcast_mismatch():
    a, b = graphc.input("a", ("batch", 3)), graphc.input("b", (4,))
    with pytest.raises(graphc.ShapeError, match=r"add: dimensions 3 and 4 do not broadcast \(input shapes "
                                                r"\(batch, 3\), \(4,\)\)\n  at .*test_errors.py:\d+"):
        a + b


def test_dtype_mismatch_is_an_error_not_a_promotion():
    a, b = graphc.input("a", (3,), "float32"), graphc.input("b", (3,), "float64")
    line = here(2)
    with pytest.raises(graphc.DTypeError) as error:
        a * b
    assert "mul" in str(error.value) and "float32 and float64" in str(error.value) and line in str(error.value)
    with pytest.raises(graphc.DTypeError, match="tanh: needs floating-point"):
        graphc.tanh(graphc.input("i", (3,), "int64"))


def test_missing_feed_names_the_input_and_where_it_was_declared():
    line = here()
    x = graphc.input("x", (3,))
    y = graphc.input("y", (3,))
    with pytest.raises(graphc.FeedError) as error:
        graphc.evaluate(x + y, {"y": np.zeros(3, np.float32)})
    assert "missing feed for input 'x'" in str(error.value) and line in str(error.value)


def test_feed_of_the_wrong_shape_or_dtype():
    x = graphc.input("x", ("batch", 3))
    with pytest.raises(graphc.FeedError, match=r"feed 'x' .*expected shape \(batch, 3\), got \(4, 2\)"):
        graphc.evaluate(x * 2, {"x": np.zeros((4, 2), np.float32)})
    with pytest.raises(graphc.FeedError, match=r"expected rank 2"):
        graphc.evaluate(x * 2, {"x": np.zeros(3, np.float32)})
    with pytest.raises(graphc.FeedError, match=r"dtype float64 but the input is float32.*astype"):
        graphc.evaluate(x * 2, {"x": np.zeros((4, 3))})
    labels = graphc.input("labels", ("batch",), "int64")
    with pytest.raises(graphc.FeedError, match="dtype float32 but the input is int64"):
        graphc.evaluate(labels * 2, {"labels": np.zeros(4, np.float32)})


def test_a_named_dimension_bound_to_two_sizes():
    x = graphc.input("x", ("batch", 3))
    y = graphc.input("y", ("batch",))
    with pytest.raises(graphc.BindingError, match=r"dimension 'batch' is 5 here but was bound to 4 by feed 'x'"):
        graphc.evaluate(x.sum(axis=1) + y, {"x": np.zeros((4, 3), np.float32), "y": np.zeros(5, np.float32)})


def test_unknown_initializer():
    line = here(2)
    with pytest.raises(graphc.InitializerError) as error:
        graphc.param("W", (3, 3), init="glorot_unifrom")
    assert "unknown initializer 'glorot_unifrom'" in str(error.value) and "glorot_uniform" in str(error.value)
    assert line in str(error.value)


def test_parameters_need_fixed_sizes_and_unique_names():
    with pytest.raises(graphc.ShapeError, match="fixed sizes"):
        graphc.param("W", ("batch", 3))
    a, b = graphc.param("same", (2,)), graphc.param("same", (3,))
    with pytest.raises(graphc.FeedError, match="two different leaves are named 'same'"):
        graphc.init_params([a + 1.0, b + 1.0])


def test_other_shape_rules_report_clearly():
    x = graphc.input("x", (4, 3))
    with pytest.raises(graphc.ShapeError, match=r"reshape: cannot reshape \(4, 3\) to \(5, 2\)"):
        x.reshape(5, 2)
    with pytest.raises(graphc.ShapeError, match="index 7 is out of range"):
        x[7]
    with pytest.raises(graphc.ShapeError, match="axis 2 is out of range"):
        x.sum(axis=2)
    with pytest.raises(graphc.ShapeError, match=r"cross_entropy: logits \(4, 3\) need labels of shape \(4,\)"):
        graphc.cross_entropy(x, graphc.input("labels", (3,), "int64"))


TIME, BATCH = dim_symbol("time"), dim_symbol("batch")


@pytest.mark.parametrize("source, target, same", [
    ((TIME, BATCH, 3), (TIME * BATCH, 3), True),  # products of names compare by their factors
    ((TIME, BATCH, 6), (BATCH, 3, 2 * TIME), True),
    ((TIME, 0), (0,), True),  # no elements either way
    ((TIME, BATCH), (TIME,), False),
    ((TIME, 4), (BATCH, 4), False),
    ((TIME, 2), (2, TIME, 1), True),
    ((TIME + 1, 2), (2 * TIME + 2,), True),  # a sum: SymPy's algebra decides
    ((TIME + 1, 2), (2 * TIME + 1,), False),
])
def test_a_reshape_with_named_dimensions_keeps_its_size(source, target, same):
    x = graphc.input("x", source)
    if same:
        assert x.reshape(*target).shape == tuple(target)
    else:
        with pytest.raises(graphc.ShapeError, match="cannot reshape"):
            x.reshape(*target)


def test_numerical_errors_name_the_op():
    x = graphc.input("x", (2,))
    y = graphc.log(x) * 2.0
    with pytest.raises(graphc.NumericalError, match=r"log produced NaN from finite inputs\n  at .*test_errors"):
        graphc.evaluate(y, {"x": np.array([1.0, -1.0], np.float32)}, check_numerics=True)
