"""runtime/view.py: the reshape of generated CPU code, a view of a C-contiguous array (any other is refused)."""

import gc

import numba
import numpy as np
import pytest

import graphc
from graphc.backends.runtime.view import view


@numba.njit
def as_rows(x, rows, columns):
    return view(x, (rows, columns))


@numba.njit
def flat_of_transpose(x):
    return view(np.transpose(x), (x.size,))


def test_a_contiguous_array_is_viewed_in_place():
    x = np.arange(12.0).reshape(3, 4)
    rows = as_rows(x, 2, 6)
    np.testing.assert_array_equal(rows, x.reshape(2, 6))
    assert rows.flags.c_contiguous and np.shares_memory(rows, x)
    rows[1, 5] = -1.0  # the view writes into the array it views
    assert x[2, 3] == -1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_every_dtype_is_viewed_and_other_layouts_are_refused(dtype):
    x = np.arange(12).astype(dtype).reshape(3, 4)
    rows = as_rows(x, 6, 2)
    assert rows.dtype == dtype and np.shares_memory(rows, x)
    # a copy here would leave a kernel's results in the copy: the code generator copies strided views itself
    with pytest.raises(numba.core.errors.TypingError):
        flat_of_transpose(x)


def test_sizes_that_do_not_match_are_refused():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="view: the sizes do not match"):
        as_rows(x, 5, 3)
    assert as_rows(np.zeros((0, 4)), 0, 9).shape == (0, 9)  # empty arrays view as any empty shape


def test_a_view_keeps_its_data_alive():
    x = np.arange(6.0)
    rows = as_rows(x, 2, 3)
    del x
    gc.collect()
    np.testing.assert_array_equal(rows, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])


def test_generated_cpu_code_reshapes_through_views():
    # Numba lowers each .reshape call site in full: about 50 ms of compile each (runtime/view.py's docstring).
    x = graphc.input("x", (2, 3, 4), "float64")
    table = graphc.input("table", (5, 4), "float64")
    labels = graphc.input("labels", (6,), "int64")
    logits = x.reshape((6, 4)) + table[labels]
    strided = x[:, 1:3].reshape((2, 8)).sum() + graphc.log_softmax(table.T, axis=-1).sum()  # a slice, a transpose
    loss = graphc.cross_entropy(logits, labels) + graphc.softmax(x, axis=1).sum() + strided
    function = graphc.compile([loss] + graphc.grad(loss, [x, table]))
    rng = np.random.default_rng(0)
    feeds = {"x": rng.normal(size=(2, 3, 4)), "table": rng.normal(size=(5, 4)), "labels": np.array([0, 3, 1, 2, 3, 0])}
    for ours, expected in zip(function(feeds), graphc.evaluate([loss] + graphc.grad(loss, [x, table]), feeds)):
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)
    code = [line.split("#", 1)[0] for line in function.source.splitlines()]
    assert any("view(" in line for line in code)
    assert not [line for line in code if ".reshape(" in line]
