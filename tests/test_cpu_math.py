"""The vectorizable float32 exp, sigmoid and tanh of the CPU backend against float64 references."""

import numba
import numpy as np
import pytest

from graphc.backends.runtime import cpu_math

FUNCTIONS = {"exp32": np.exp, "sigmoid32": lambda v: 1 / (1 + np.exp(-v)), "tanh32": np.tanh}


@numba.njit
def _apply(function, x, out):
    for i in range(x.shape[0]):
        out[i] = function(x[i])


def _run(name, x):
    out = np.empty_like(x)
    _apply(getattr(cpu_math, name), x, out)
    return out


@pytest.mark.parametrize("name", FUNCTIONS)
def test_within_three_ulps_where_results_are_normal_floats(name):
    x = np.concatenate([np.linspace(-90, 90, 100001), np.linspace(-1, 1, 100001), np.geomspace(1e-30, 1, 2000),
                        -np.geomspace(1e-30, 1, 2000)]).astype(np.float32)
    with np.errstate(over="ignore"):
        expected = FUNCTIONS[name](x.astype(np.float64))
    normal = np.isfinite(expected) & (np.abs(expected) >= np.finfo(np.float32).tiny) & (np.abs(expected) < 3.4e38)
    spacing = np.spacing(np.abs(expected[normal]).astype(np.float32)).astype(np.float64)
    # measured: exp 1.1, sigmoid 2.1, tanh 1.9 ulps
    assert np.max(np.abs(_run(name, x)[normal] - expected[normal]) / spacing) <= 3.0


@pytest.mark.parametrize("name", FUNCTIONS)
def test_extremes_match_numpy_float32(name):
    x = np.array([1e4, -1e4, np.inf, -np.inf, np.nan, 88.7, 88.73, -110.0, 0.0, -0.0], np.float32)
    with np.errstate(over="ignore"):
        expected = FUNCTIONS[name](x).astype(np.float32)
    got = _run(name, x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    finite = ~np.isnan(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=3e-7, atol=np.finfo(np.float32).tiny)
