"""The packed matrix product of loop bodies (runtime/packed.py) against NumPy: every remainder of its tiles and
panels, both float types, strided operands, NaN and Inf, and the threaded split."""

import numpy as np
import pytest

from graphc.backends.runtime import packed

# Row counts around the tile's rows, column counts around the panel's width, and k from 1.
SHAPES = [(1, 1, 1), (3, 5, 7), (packed.ROWS, 1, 33), (packed.ROWS + 1, 64, 64), (17, 33, 31), (32, 256, 1024),
          (32, 1024, 256), (40, 7, 100), (2, 3, 0)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", SHAPES)
@pytest.mark.parametrize("transposed", [False, True])
def test_packed_products_equal_numpy(dtype, m, k, n, transposed):
    rng = np.random.default_rng(m * 1000 + k + n)
    a = rng.standard_normal((m, k)).astype(dtype)
    matrix = rng.standard_normal((n, k)).astype(dtype).T if transposed else rng.standard_normal((k, n)).astype(dtype)
    want = a.astype(np.float64) @ matrix.astype(np.float64)
    scale = max(1.0, np.abs(want).max(initial=0))
    for product in (packed.packed_product, lambda *operands: packed.threaded_product(*operands, packed.THREADS)):
        out = np.full((m, n), np.nan, dtype)  # every element must be written
        product(a, packed.pack_panels(matrix), out)
        np.testing.assert_allclose(out, want, rtol=0, atol=(1e-5 if dtype == np.float32 else 1e-13) * scale)


def test_a_result_written_into_a_strided_view_leaves_the_rest_alone():
    rng = np.random.default_rng(0)
    a, matrix = rng.standard_normal((9, 6)), rng.standard_normal((6, 40))
    stack = np.zeros((2, 9, 50))
    packed.packed_product(a, packed.pack_panels(matrix), stack[1, :, 5:45])
    np.testing.assert_allclose(stack[1, :, 5:45], a @ matrix, rtol=1e-13, atol=1e-13)
    assert not stack[0].any() and not stack[1, :, :5].any() and not stack[1, :, 45:].any()


def test_nan_and_inf_reach_the_results_they_reach_in_numpy():
    a = np.ones((10, 4))
    a[2, 1], a[9, 3] = np.nan, np.inf
    matrix = np.ones((4, 35))
    matrix[0, 34] = -np.inf
    out = np.empty((10, 35))
    packed.packed_product(a, packed.pack_panels(matrix), out)
    with np.errstate(invalid="ignore"):  # inf - inf
        want = a @ matrix
    np.testing.assert_array_equal(np.isnan(out), np.isnan(want))
    np.testing.assert_array_equal(out[np.isfinite(want)], want[np.isfinite(want)])
    np.testing.assert_array_equal(out[np.isinf(want)], want[np.isinf(want)])


def test_rows_that_are_not_contiguous_are_refused():
    with pytest.raises(ValueError, match="contiguous"):
        packed.packed_product(np.ones((4, 3)).T, packed.pack_panels(np.ones((4, 2))), np.empty((3, 2)))
