"""NaN and infinities go through every compiled op as they go through the reference (NumPy): a NaN in a batch
must reach the loss, where the numerics check sees it, not vanish in a relu, a max or an argmax. The cases come
from the op table, with NaN, +Inf and -Inf put at the start of every float input."""

import os
import warnings

import numpy as np
import pytest

import graphc

from .op_cases import CASES, build

SPECIAL = np.array([np.nan, np.inf, -np.inf, 1.0, -1.0, 0.0])
# Numba's CUDA simulator runs kernels as Python, whose math.log(-1) and math.sin(inf) raise where a GPU gives NaN:
# under it, only NaN is put in (every math function takes NaN). On a GPU (GRAPHC_TEST_GPU=1), all of them.
SIMULATED = np.array([np.nan])
# Every case with a float input, but casts to an integer dtype: NaN and Inf have no integer value, and converting
# them is undefined (NumPy warns and gives whatever the CPU's instruction does).
WITH_FLOATS = [case for case in CASES if not case.values[0].random and any(
    position not in case.values[1].integers and position not in case.values[1].booleans
    for position in range(len(case.values[1].shapes)))
    and not (case.values[0].dtype_attribute and np.dtype(case.values[1].attrs["dtype"]).kind in "iub")]


def with_special_values(op, case, special):
    out, tensors, floats, feeds = build(op, case, dtype="float32")
    for tensor in floats:
        flat = feeds[tensor.node.attr("name")].reshape(-1)  # a view: the feed itself changes
        flat[: len(special)] = special[: flat.size]
    return out, feeds


def test_the_cases_cover_the_ops_that_lost_nan():
    names = {case.values[0].name for case in WITH_FLOATS}
    assert {"relu", "maximum", "minimum", "sign", "max", "argmax", "where", "greater"} <= names, names


@pytest.mark.parametrize("op, case", WITH_FLOATS)
def test_nan_and_inf_give_what_the_reference_gives(op, case, backend):
    simulated = backend == "cuda" and os.environ.get("GRAPHC_TEST_GPU") != "1"
    out, feeds = with_special_values(op, case, SIMULATED if simulated else SPECIAL)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.asarray(graphc.evaluate(out, feeds))
        got = np.asarray(graphc.compile(out, backend=backend)(feeds))
    assert got.shape == expected.shape and got.dtype == expected.dtype
    if expected.dtype.kind != "f":
        np.testing.assert_array_equal(got, expected)
        return
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg="NaN where the reference has none, "
                                  "or none where it has one")
    np.testing.assert_array_equal(np.isinf(got) * np.sign(got), np.isinf(expected) * np.sign(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=2e-4, atol=1e-5)
