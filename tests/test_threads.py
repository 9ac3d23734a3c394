"""graphc's own threads: large matrix products split between them (runtime/blas.py's row and column blocks,
runtime/packed.py's panels) equal NumPy's and the reference interpreter's; a step that splits runs with BLAS on one
thread and gives BLAS its threads back; a small program never touches BLAS's threads; GRAPHC_PARALLEL=0 and
OMP_NUM_THREADS=1 generate the single-threaded code; threaded kernels loaded from the disk cache run; starting
graphc's threads leaves OpenMP's nested parallelism off; and a forked child runs them on one thread."""

import multiprocessing
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import graphc as gc
from graphc import nn
from graphc.backends.runtime import blas, packed
from graphc.train import language

from .programs import custom_cell, large_product

ROOT = pathlib.Path(__file__).resolve().parent.parent
THREADED = packed.THREADS > 1

# (m, k, n): split by rows (m >= n), by columns, too small to split, and empty.
SHAPES = [(300, 70, 60), (40, 90, 700), (64, 64, 128), (5, 3, 4), (0, 3, 4), (3, 0, 4), (3, 4, 0), (1, 1, 1)]


def blas_threads() -> list[int]:
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", SHAPES)
@pytest.mark.parametrize("layouts", ["CC", "CF", "FC", "FF"])
def test_threaded_products_equal_numpy(dtype, m, k, n, layouts):
    rng = np.random.default_rng(m * 10_000 + k * 100 + n)
    a = rng.standard_normal((k, m)).T if layouts[0] == "F" else rng.standard_normal((m, k))
    b = rng.standard_normal((n, k)).T if layouts[1] == "F" else rng.standard_normal((k, n))
    a, b = a.astype(dtype), b.astype(dtype)
    out = np.full((m, n), np.nan, dtype)  # every element must be written
    with blas.OneBlasThread():
        blas.threaded_dot(a, b, out, packed.THREADS)
    want = a.astype(np.float64) @ b.astype(np.float64)
    scale = max(1.0, np.abs(want).max(initial=0))
    np.testing.assert_allclose(out, want, rtol=0, atol=(1e-5 if dtype == np.float32 else 1e-13) * scale)


def test_products_are_split_only_when_large():
    assert 300 * 70 * 60 >= packed.THREADED_WORK > 64 * 64 * 128


def test_blas_runs_on_one_thread_inside_and_gets_its_threads_back():
    before = blas_threads()
    with blas.OneBlasThread():
        inside = blas_threads()
    assert inside and set(inside) == {1}
    assert blas_threads() == before


def model(hidden: int):
    """A small RNN language model's loss and gradients; its step product is (batch, hidden) @ (hidden, hidden)."""
    network = nn.language_model("rnn", 11, 8, hidden)
    outputs = [network.loss, *gc.grad(network.loss, list(network.params))]
    rng = np.random.default_rng(0)
    feeds = {"tokens": rng.integers(0, 11, (3, 8)), "targets": rng.integers(0, 11, (3, 8)),
             **gc.init_params(network.params, seed=1), **language.zero_state(network, 8)}
    return outputs, feeds


@pytest.mark.skipif(not THREADED, reason="one thread: nothing is split")
def test_a_threaded_loop_equals_the_reference_and_restores_blas():
    outputs, feeds = model(384)  # 8 x 384 @ 384 x 384 at every step: split
    assert 8 * 384 * 384 >= packed.THREADED_WORK
    compiled = gc.compile(outputs)
    before = blas_threads()
    results = compiled(feeds)
    assert blas_threads() == before
    specialization = next(iter(compiled.specializations.values()))
    assert isinstance(specialization.threads, blas.OneBlasThread)
    assert "rt.threaded_product(" in compiled.source and "rt.threaded_dot(" in compiled.source
    for got, want in zip(results, gc.evaluate(outputs, feeds)):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


@pytest.mark.skipif(not THREADED, reason="one thread: nothing is split")
def test_a_custom_cell_whose_products_are_split_equals_the_reference_in_float64():
    """A user's cell (a weight used twice per step, gates reading the cell state) large enough for every product to
    be split: values and every gradient."""
    batch, hidden = 8, 384
    assert batch * hidden * hidden >= packed.THREADED_WORK  # the smallest step product, c @ P, is split too
    outputs, feeds = custom_cell(3, 96, hidden, seed=5, scale=0.05)
    feeds = feeds(batch)
    compiled = gc.compile(outputs)
    results = compiled(feeds)
    assert "rt.threaded_product(" in compiled.source
    for got, want in zip(results, gc.evaluate(outputs, feeds), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


def forked_child_result(compiled, feeds, queue):
    queue.put([np.asarray(value) for value in compiled(feeds)])


@pytest.mark.skipif(not THREADED, reason="one thread: nothing is split")
def test_a_child_forked_after_threaded_steps_runs_them_on_one_thread():
    # GNU OpenMP cannot run in a child forked from a process that used it: Numba terminated such a child at its first
    # split product ("fork() called from a process already using GNU OpenMP"), exit -15.
    outputs, feeds = large_product()
    compiled = gc.compile(outputs)
    parent = compiled(feeds)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=forked_child_result, args=(compiled, feeds, queue))
    child.start()
    results = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    for got, want in zip(results, parent, strict=True):  # float32 sums, blocked differently when split
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_a_small_program_leaves_blas_alone():
    outputs, feeds = model(16)
    compiled = gc.compile(outputs)
    compiled(feeds)
    assert not isinstance(next(iter(compiled.specializations.values())).threads, blas.OneBlasThread)


# Compiles a program whose products are split, prints whether its source threads, and runs it.
THREADED_PROGRAM = """
import numpy as np, graphc as gc
from tests.programs import large_product
outputs, feeds = large_product()
compiled = gc.compile(outputs)
results = compiled(feeds)
for got, want in zip(results, gc.evaluate(outputs, feeds)):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
print("threaded" if "rt.threaded_dot(" in compiled.source else "single")
"""


def run(code: str, tmp_path, **variables) -> subprocess.CompletedProcess:
    environment = {**os.environ, "GRAPHC_CACHE_DIR": str(tmp_path / "graphc"),
                   "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "PYTHONPATH": str(ROOT), **variables}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=600)


def test_the_runtime_starts_numbas_thread_pool_itself(tmp_path):
    # Numba starts its thread pool when it compiles a parallel function or calls one from Python, not when it loads
    # a generated program from its cache whose machine code holds the threaded kernels: such a program called into
    # a pool never started (SIGSEGV; seen with W2 and W5 steps loaded from a cache that other models had filled).
    code = "import numba.np.ufunc.parallel as p, graphc.backends.runtime.blas; print(p._is_initialized)"
    result = run(code, tmp_path)
    assert result.returncode == 0 and result.stdout.split() == ["True"], result.stderr[-2000:]


def test_nested_parallelism_stays_off_once_graphcs_threads_run(tmp_path):
    # Numba's OpenMP layer turns nesting on for the whole process; PyTorch's oneDNN RNN then nested teams of threads
    # and ran 120x slower in the same process (runtime/blas.py).
    code = ("import ctypes, numba, graphc.backends.runtime.blas\n"
            "from threadpoolctl import threadpool_info\n"
            "runtimes = [l['filepath'] for l in threadpool_info() if l['user_api'] == 'openmp']\n"
            "print(numba.threading_layer(), *[ctypes.CDLL(p).omp_get_max_active_levels() for p in runtimes])")
    result = run(code, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    layer, *levels = result.stdout.split()
    assert layer != "omp" or (levels and set(levels) == {"1"}), result.stdout


def test_the_runtime_finds_blas_without_importing_scipy_linalg_which_still_imports_after(tmp_path):
    # scipy.linalg's __init__ imports the whole package (0.10 s of a 0.3 s warm start): the runtime loads only the
    # extension where Numba finds sgemm/dgemm, and a later import of scipy.linalg finds that same module.
    code = ("import sys, numpy as np, graphc.backends.runtime.blas as blas\n"
            "print('scipy.linalg' in sys.modules)\n"
            "a, b = np.arange(12.0).reshape(3, 4), np.arange(8.0).reshape(4, 2); out = np.empty((3, 2))\n"
            "blas.threaded_dot(a, b, out, 1); print(np.array_equal(out, a @ b))\n"
            "import scipy.linalg, scipy.linalg.cython_blas as loaded\n"
            "from scipy.linalg import cython_blas\n"
            "print(loaded is cython_blas is sys.modules['scipy.linalg.cython_blas'],\n"
            "      np.allclose(scipy.linalg.blas.dgemm(1.0, a, b), a @ b),\n"
            "      np.allclose(scipy.linalg.solve(np.diag([1.0, 2, 4]), a[:, 0]), a[:, 0] / [1, 2, 4]))")
    result = run(code, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "True", "True", "True", "True"]


def test_a_program_on_one_thread_runs_its_products_without_importing_scipy_linalg(tmp_path):
    # Its products are np.dot (runtime/cpu.py's dot), whose BLAS Numba imports at the first call, as blas.py's do.
    code = ("import sys, numpy as np, graphc\n"
            "x = graphc.input('x', (3, 4)); w = graphc.param('w', (4, 2))\n"
            "a = np.arange(12, dtype=np.float32).reshape(3, 4); b = np.arange(8, dtype=np.float32).reshape(4, 2)\n"
            "out = graphc.compile(x @ w)({'x': a, 'w': b})\n"
            "print(np.allclose(out, a @ b), 'scipy.linalg' in sys.modules,\n"
            "      'graphc.backends.runtime.blas' in sys.modules)")
    result = run(code, tmp_path, GRAPHC_PARALLEL="0")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "False", "False"]


@pytest.mark.skipif(not THREADED, reason="one thread: nothing is split")
def test_threaded_kernels_loaded_from_the_cache_run(tmp_path):
    for attempt in range(2):
        result = run(THREADED_PROGRAM, tmp_path)
        assert result.returncode == 0, (attempt, result.returncode, result.stderr[-2000:])
        assert result.stdout.split() == ["threaded"]


@pytest.mark.parametrize("variables", [{"GRAPHC_PARALLEL": "0"}, {"OMP_NUM_THREADS": "1"}])
def test_threads_turned_off_generate_the_single_threaded_code(tmp_path, variables):
    result = run(THREADED_PROGRAM, tmp_path, **variables)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["single"]
