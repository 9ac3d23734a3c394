"""Matrix products split between graphc's threads, each part one single-threaded BLAS call on its block of rows or
columns: what the generated code calls for every product but a loop's packed ones (``runtime/packed.py``), where
graphc has two or more threads (``codegen/program.py``'s ``threaded_products``).

Why not OpenBLAS's own threads: a threaded step runs graphc's loops on Numba's threads, and OpenBLAS's workers
spin after each call it threads, so the two teams fight for the same cores (W4 76-86 ms a step against 24 on one
thread, docs/benchmarks.md; a split product 9.0-10.6 ms instead of 0.6-2.8). A threaded program therefore runs with
BLAS at one thread (``compiled/cpu.py``) and splits its products here, so that one team of threads owns the cores.

Numba's ``np.dot`` takes whole arrays only (it passes each array's full shape as BLAS's leading dimension), so a
block of rows or columns is passed to Numba's BLAS entry point (``numba_xxgemm``, column-major, as Numba calls it)
directly: the block's first element and the whole array's leading dimension.
"""

from __future__ import annotations

import ctypes
import os

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.linalg import ensure_blas, get_blas_kind
from threadpoolctl import ThreadpoolController, threadpool_info

from . import (
    packed,
    scipy_blas,  # noqa: F401 - SciPy's BLAS, loaded before ensure_blas imports it
)
from .cpu import JIT, zero
from .jit import njit
from .packed import THREADS, splits

ensure_blas()
_GEMM = numba._helperlib.c_helpers["xxgemm"]


def _resolve_blas():
    """Numba's entry point finds SciPy's ``sgemm``/``dgemm`` at its first call, under the GIL; a worker thread
    cannot take the GIL while the calling thread holds it, so both are found here, once, by a 1x1 product each."""
    character = ctypes.c_char
    index = ctypes.c_ssize_t
    gemm = ctypes.CFUNCTYPE(ctypes.c_int, character, character, character, index, index, index, ctypes.c_void_p,
                            ctypes.c_void_p, index, ctypes.c_void_p, index, ctypes.c_void_p, ctypes.c_void_p,
                            index)(_GEMM)
    for kind, dtype in ((b"s", np.float32), (b"d", np.float64)):
        one, nothing, out = np.ones(1, dtype), np.zeros(1, dtype), np.zeros(1, dtype)
        status = gemm(kind, b"n", b"n", 1, 1, 1, one.ctypes.data, one.ctypes.data, 1, one.ctypes.data, 1,
                      nothing.ctypes.data, out.ctypes.data, 1)
        if status != 0 or out[0] != 1:
            raise RuntimeError(f"BLAS {kind.decode()}gemm could not be found through Numba (status {status})")


_resolve_blas()


def _start_threads():
    """Start Numba's thread pool, with nested parallelism off.

    Numba starts its pool when it compiles a parallel function, not when it loads one from its cache: a program whose
    threaded kernels all came from the cache called into a pool never started (SIGSEGV), so it is started here. And
    Numba's OpenMP layer turns nested parallel regions on for the whole process (max active levels 255): oneDNN's
    parallel regions in PyTorch then nest teams of threads, and ``torch.nn.RNN``'s forward took 197 ms instead of
    1.6 after graphc had started the pool (2 cores). graphc's threaded kernels never nest, so nesting goes back off
    in every OpenMP runtime loaded."""
    numba.get_num_threads()
    for library in threadpool_info():
        if library["user_api"] == "openmp":
            ctypes.CDLL(library["filepath"]).omp_set_max_active_levels(1)


_start_threads()
# GNU OpenMP cannot run in a child forked from a process that used it (Numba terminates the child at its first
# parallel region: "fork() called from a process already using GNU OpenMP"), so a forked child's calls pass one
# thread to the kernels (an argument: a kernel that read Numba's thread count could not be cached).
os.register_at_fork(after_in_child=packed.forked)


@intrinsic
def gemm_block(typing_context, a, b, out, first_row, last_row, first_column, last_column):
    """``out[rows, columns] = a[rows] @ b[:, columns]`` for C- or F-ordered ``a`` and ``b`` and a C-ordered
    ``out``, where ``rows`` and ``columns`` are ``first:last`` ranges."""
    arrays = (a, b, out)
    if not (all(isinstance(x, types.Array) and x.ndim == 2 for x in arrays)
            and a.dtype in (types.float32, types.float64) and b.dtype == a.dtype and out.dtype == a.dtype
            and a.layout in "CF" and b.layout in "CF" and out.layout == "C"):
        return None
    signature = types.void(a, b, out, types.intp, types.intp, types.intp, types.intp)

    def codegen(context, builder, signature, arguments):
        first_row, last_row, first_column, last_column = arguments[3:]
        a_array, b_array, out_array = (context.make_array(t)(context, builder, v)
                                       for t, v in zip(signature.args[:3], arguments[:3]))
        m, k = cgutils.unpack_tuple(builder, a_array.shape, 2)
        _, n = cgutils.unpack_tuple(builder, b_array.shape, 2)
        character = ir.IntType(8)
        pointer = cgutils.voidptr_t

        def flag(transposed):
            return ir.Constant(character, ord("t" if transposed else "n"))

        def at(array, offset):
            return builder.bitcast(builder.gep(array.data, [offset]), pointer)

        # Column-major, the C-ordered block of the result is (columns, rows) = the columns' block of b^T times the
        # rows' block of a^T; each block starts at its first element and keeps its whole array's leading dimension.
        if b.layout == "C":
            b_data, b_leading = at(b_array, first_column), n
        else:
            b_data, b_leading = at(b_array, builder.mul(first_column, k)), k
        if a.layout == "C":
            a_data, a_leading = at(a_array, builder.mul(first_row, k)), k
        else:
            a_data, a_leading = at(a_array, first_row), m
        out_data = at(out_array, builder.add(builder.mul(first_row, n), first_column))
        dtype = signature.args[0].dtype
        alpha = cgutils.alloca_once_value(builder, context.get_constant(dtype, 1.0))
        beta = cgutils.alloca_once_value(builder, context.get_constant(dtype, 0.0))
        function_type = ir.FunctionType(ir.IntType(32), [character] * 3 + [cgutils.intp_t] * 3 + [
            pointer, pointer, cgutils.intp_t, pointer, cgutils.intp_t, pointer, pointer, cgutils.intp_t])
        gemm = cgutils.get_or_insert_function(builder.module, function_type, "numba_xxgemm")
        builder.call(gemm, [ir.Constant(character, ord(get_blas_kind(dtype))), flag(b.layout != "C"),
                            flag(a.layout != "C"), builder.sub(last_column, first_column),
                            builder.sub(last_row, first_row), k, builder.bitcast(alpha, pointer), b_data, b_leading,
                            a_data, a_leading, builder.bitcast(beta, pointer), out_data, n])
        return context.get_dummy_value()

    return signature, codegen


@njit(parallel=True, **JIT)
def threaded_dot(a, b, out, threads):
    """``np.dot(a, b, out)``, split between the threads when the product is large enough to pay for it for the
    ``threads`` the call may use (``splits``): by rows when there are at least as many rows as columns, else by
    columns, so that each thread packs its share of the larger operand and the whole of the smaller one."""
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:  # BLAS refuses a leading dimension of 0
        zero(out)
        return
    if not splits(m * k * n, threads) or max(m, n) < THREADS:
        gemm_block(a, b, out, 0, m, 0, n)
        return
    by_rows = m >= n
    share = ((m if by_rows else n) + THREADS - 1) // THREADS
    for part in numba.prange(THREADS):
        first = part * share
        if by_rows:
            if first < m:
                gemm_block(a, b, out, first, min(m, first + share), 0, n)
        elif first < n:
            gemm_block(a, b, out, 0, m, first, min(n, first + share))


class OneBlasThread:
    """While entered, every BLAS library loaded in the process (NumPy's, SciPy's: the one Numba calls) runs on one
    thread; each gets its own thread count back on exit. A threaded program's step runs inside it."""

    def __init__(self):
        # after ensure_blas(): SciPy's BLAS, the one the generated code calls, is loaded by now
        self.libraries = [library for library in ThreadpoolController().lib_controllers if library.user_api == "blas"]
        self.saved: list[tuple] = []

    def __enter__(self):
        self.saved = [(library, library.get_num_threads()) for library in self.libraries]
        for library, _ in self.saved:
            library.set_num_threads(1)
        return self

    def __exit__(self, *exception):
        for library, threads in self.saved:
            library.set_num_threads(threads)
