"""runtime/view.py: the reshape of generated CPU code, a view of a C-contiguous array (any other is refused), and the
workspace's buffers, views of one array per dtype (``view_at``)."""

import gc

import numba
import numpy as np
import pytest

import graphc
from graphc.backends.compiled.cpu import aligned_empty
from graphc.backends.lowering import ALIGNMENT
from graphc.backends.runtime.view import view, view_at, view_rows, view_step


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


@numba.njit
def buffer_of(workspace, starts, index, rows, columns):
    return view_at(workspace, starts, index, (rows, columns))


def test_a_buffer_is_a_view_of_the_workspace_at_its_start():
    workspace = np.arange(20.0)
    starts = np.array([0, 8], np.int64)
    second = buffer_of(workspace, starts, 1, 3, 4)
    np.testing.assert_array_equal(second, workspace[8:20].reshape(3, 4))
    assert second.flags.c_contiguous and np.shares_memory(second, workspace)
    second[0, 0] = -1.0  # the program's kernels write into the workspace
    assert workspace[8] == -1.0


def test_a_buffer_past_the_workspace_or_past_the_starts_is_refused():
    workspace, starts = np.zeros(20), np.array([0, 8], np.int64)
    with pytest.raises(ValueError, match="view_at: the buffer lies past the workspace"):
        buffer_of(workspace, starts, 1, 4, 4)  # 8 + 16 > 20
    with pytest.raises(ValueError, match="view_at: no such buffer"):
        buffer_of(workspace, starts, 2, 1, 1)


def test_the_workspace_is_one_aligned_array_per_dtype_with_buffers_that_do_not_overlap():
    x = graphc.input("x", ("batch", 5), "float32")
    labels = graphc.input("labels", ("batch",), "int64")
    w = graphc.param("w", (5, 7))
    loss = graphc.cross_entropy(graphc.tanh(x @ w) @ graphc.tanh(w.T), labels)
    function = graphc.compile([loss, *graphc.grad(loss, [w])])
    rng = np.random.default_rng(0)
    for batch in (3, 17):  # buffers sized by the binding
        feeds = {"x": rng.normal(size=(batch, 5)).astype(np.float32), "w": rng.normal(size=(5, 7)).astype(np.float32),
                 "labels": rng.integers(0, 5, batch)}
        for ours, expected in zip(function(feeds), graphc.evaluate([loss, *graphc.grad(loss, [w])], feeds)):
            np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
        (specialization,) = [specialization for specialization in function.specializations.values()
                             if {str(k): v for k, v in specialization.binding.items()}["batch"] == batch]
        lowered = function.programs[next(iter(function.programs))][2]
        sizes, starts = lowered.workspace_layout(specialization.binding)
        arrays, given = specialization.workspace[:-1], specialization.workspace[-1]
        assert [str(array.dtype) for array in arrays] == lowered.workspace_dtypes() == list(sizes)
        assert list(given) == starts and all(array.ctypes.data % ALIGNMENT == 0 for array in arrays)
        spans = {}
        for (shape, dtype), start in zip(lowered.workspace_shapes(specialization.binding), starts):
            assert start * np.dtype(dtype).itemsize % ALIGNMENT == 0
            spans.setdefault(dtype, []).append((start, start + int(np.prod(shape))))
        for dtype, ranges in spans.items():
            ranges.sort()
            assert all(end <= next_start for (_, end), (next_start, _) in zip(ranges, ranges[1:]))
            assert ranges[-1][1] <= sizes[dtype]
    header = next(line for line in function.source.splitlines() if line.startswith("def run("))
    assert "buffer" not in header and "workspace_float32" in header and "starts" in header


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_aligned_arrays_start_on_the_alignment(dtype):
    assert aligned_empty(0, dtype).shape == (0,)  # no data to align
    for size in (1, 7, 1000):
        array = aligned_empty(size, dtype)
        assert array.shape == (size,) and array.dtype == dtype and array.ctypes.data % ALIGNMENT == 0


@numba.njit
def steps_of(x, t, lo, hi):
    return view_step(x, t), view_step(x, t, lo, hi), view_rows(x, lo, hi)


@pytest.mark.parametrize("order", ["C", "F"])
def test_a_step_and_rows_are_views_equal_to_numpys_indexing(order):
    """view_step and view_rows (a loop's step of a sequence, a split loop's rows): x[t], x[t, lo:hi] and x[lo:hi]
    as views of x, contiguous where x is C-ordered, of any layout otherwise (never F-ordered: rows of an F-ordered
    array are not)."""
    x = np.asarray(np.arange(4 * 5 * 3, dtype=np.float32).reshape(4, 5, 3), order=order)
    step, rows_of_step, rows = steps_of(x, 2, 1, 4)
    for ours, numpys in ((step, x[2]), (rows_of_step, x[2, 1:4]), (rows, x[1:4])):
        assert np.array_equal(ours, numpys) and ours.flags.c_contiguous == numpys.flags.c_contiguous
    rows_of_step[0, 0] = -1  # a view: written through to x
    assert x[2, 1, 0] == -1
    (returned,) = [s.return_type for s in steps_of.nopython_signatures if s.args[0] == numba.typeof(x)]
    assert [array.layout for array in returned] == (["C", "C", "C"] if order == "C" else ["A", "A", "A"])


@pytest.mark.parametrize(("t", "lo", "hi"), [(4, 0, 1), (-1, 0, 1), (0, 2, 1), (0, 0, 6), (0, -1, 2)])
def test_a_step_or_rows_outside_the_array_are_refused(t, lo, hi):
    with pytest.raises(IndexError, match="outside the array"):
        steps_of(np.zeros((4, 5, 3)), t, lo, hi)
