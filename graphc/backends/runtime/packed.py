"""Matrix products by a matrix that a loop reads at every step (a recurrent weight ``U`` in ``h @ U``): ``U`` is
packed once, before the loop, into panels the micro-kernel reads in order, and each step multiplies by the packed
copy with a register-blocked kernel written as LLVM vector code (Numba's ``intrinsic``).

Why not BLAS at every step: OpenBLAS packs its right operand again at every call (12% of W4's step in a perf
profile), and for the few rows of a recurrent step (the batch) its kernels run far below their large-matrix rate.
``benchmarks/profile_recurrent.py`` measures both on the products of a real step.

Layout: a ``(k, n)`` matrix becomes ``(panels, k, WIDTH)``, panel ``j`` holding columns ``j*WIDTH ...`` row after
row, zero-padded past ``n``. A tile of ``ROWS`` rows of the result keeps its ``ROWS x WIDTH`` sums in vector
registers for the whole ``k`` loop: per step of ``k`` it loads two vectors of the panel and ``ROWS`` numbers of
the left operand, and does ``2 ROWS`` fused multiply-adds. Sums run in order over ``k`` (as a plain dot product).
"""

from __future__ import annotations

import os

import numba
import numpy as np
from llvmlite import ir
from llvmlite.binding import get_host_cpu_features
from numba import types
from numba.extending import intrinsic

from .jit import njit

JIT = {"error_model": "numpy"}

# Vector registers: 64 bytes with AVX-512 (32 of them), else 32 bytes (AVX2: 16). A tile's sums take 2 ROWS
# registers, leaving room for the two panel vectors and the broadcast number.
WIDE = bool(get_host_cpu_features().get("avx512f", False))
VECTOR_BYTES = 64 if WIDE else 32
ROWS = 8 if WIDE else 6
VECTORS = 2  # per panel row


def _threads() -> int:
    """graphc's threads: Numba's, at most OMP_NUM_THREADS where that is set (Ray sets it to each worker's share of
    CPUs; a user sets it to keep a process to fewer cores). OpenMP allows a list ("4,2": per nesting level)."""
    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    numba_threads = numba.config.NUMBA_NUM_THREADS
    return max(1, min(numba_threads, int(first))) if first.isdigit() else numba_threads


THREADS = _threads()
_usable = THREADS  # what a call may use: 1 in a child forked after graphc's threads started (runtime/blas.py)


def usable_threads() -> int:
    """The threads a compiled call passes to the threaded kernels (its ``threads`` argument)."""
    return _usable


def forked():
    """In a forked child: one thread (GNU OpenMP cannot run in a child of a process that used it)."""
    global _usable
    _usable = 1


# Below this many multiply-adds a product runs on one thread: a fork and join of the team costs a few microseconds
# (W6's step, whose products are 8x32 @ 32x128, ran about 2x slower with them split; W4's 32x256 @ 256x1024 ran
# 1.8x faster split).
THREADED_WORK = 1 << 20


def _tile(rows: int):
    """An intrinsic ``tile(a, a_start, lda, packed, p_start, out, out_start, ldo, k)``: ``rows`` rows of the
    result (elements from ``out_start``, rows ``ldo`` apart) = the rows of ``a`` from ``a_start`` (``lda`` apart)
    times the panel of ``packed`` that starts at ``p_start``. Offsets are in elements."""

    @intrinsic
    def tile(typing_context, a, a_start, lda, packed, p_start, out, out_start, ldo, k):
        if not (isinstance(a, types.Array) and a.dtype in (types.float32, types.float64)
                and packed.dtype == a.dtype and out.dtype == a.dtype):
            return None
        signature = types.void(a, types.intp, types.intp, packed, types.intp, out, types.intp, types.intp,
                               types.intp)

        def codegen(context, builder, signature, arguments):
            a_value, a_start, lda, packed_value, p_start, out_value, out_start, ldo, k = arguments
            bits = a.dtype.bitwidth
            number = ir.FloatType() if bits == 32 else ir.DoubleType()
            width = VECTOR_BYTES * 8 // bits  # numbers per vector
            vector = ir.VectorType(number, width)
            index = ir.IntType(64)
            name = f"llvm.fma.v{width}f{bits}"
            fma = builder.module.globals.get(name) or ir.Function(builder.module,
                                                                   ir.FunctionType(vector, [vector] * 3), name)

            def data(array_type, value):
                return context.make_array(array_type)(context, builder, value).data

            def constant(value):
                return ir.Constant(index, value)

            a_data = builder.gep(data(signature.args[0], a_value), [a_start])
            p_data = builder.gep(data(signature.args[3], packed_value), [p_start])
            out_data = builder.gep(data(signature.args[5], out_value), [out_start])

            def vector_at(base, offset):
                return builder.bitcast(builder.gep(base, [offset]), vector.as_pointer())

            start = builder.block
            loop = builder.append_basic_block("tile.k")
            done = builder.append_basic_block("tile.done")
            builder.branch(loop)
            builder.position_at_end(loop)
            step = builder.phi(index)
            step.add_incoming(constant(0), start)
            sums = []
            for _ in range(rows * VECTORS):
                total = builder.phi(vector)
                total.add_incoming(ir.Constant(vector, [0.0] * width), start)
                sums.append(total)
            row_of_panel = builder.mul(step, constant(VECTORS * width))
            panel = [builder.load(vector_at(p_data, builder.add(row_of_panel, constant(v * width))), align=4)
                     for v in range(VECTORS)]
            undefined = ir.Constant(vector, ir.Undefined)
            zeros = ir.Constant(ir.VectorType(ir.IntType(32), width), [0] * width)
            updated = []
            for r in range(rows):
                number_value = builder.load(builder.gep(a_data, [builder.add(builder.mul(constant(r), lda), step)]))
                broadcast = builder.shuffle_vector(
                    builder.insert_element(undefined, number_value, ir.Constant(ir.IntType(32), 0)), undefined, zeros)
                updated += [builder.call(fma, [broadcast, panel[v], sums[r * VECTORS + v]]) for v in range(VECTORS)]
            following = builder.add(step, constant(1))
            step.add_incoming(following, loop)
            for total, value in zip(sums, updated):
                total.add_incoming(value, loop)
            builder.cbranch(builder.icmp_signed("<", following, k), loop, done)
            builder.position_at_end(done)
            for r in range(rows):
                for v in range(VECTORS):
                    offset = builder.add(builder.mul(constant(r), ldo), constant(v * width))
                    builder.store(updated[r * VECTORS + v], vector_at(out_data, offset), align=4)
            return context.get_dummy_value()

        return signature, codegen

    return tile


tile_rows = _tile(ROWS)
tile_row = _tile(1)


@njit(**JIT)
def pack_panels(matrix):
    """``matrix`` (k, n), any strides, packed as the module docstring says."""
    k, n = matrix.shape
    width = VECTORS * (VECTOR_BYTES // matrix.itemsize)
    panels = (n + width - 1) // width
    packed = np.zeros((panels, k, width), matrix.dtype)
    for j in range(panels):
        for kk in range(k):
            for column in range(min(width, n - j * width)):
                packed[j, kk, column] = matrix[kk, j * width + column]
    return packed


@njit(**JIT)
def packed_product(a, packed, out):
    """``out = a @ matrix`` where ``packed = pack_panels(matrix)``; ``a`` (m, k) and ``out`` (m, n) with rows of
    unit stride (the generated code passes contiguous ones)."""
    m, k = a.shape
    n = out.shape[1]
    panels, _, width = packed.shape
    if m == 0 or n == 0:
        return
    if a.strides[1] != a.itemsize or out.strides[1] != out.itemsize:
        raise ValueError("packed_product: the rows of a and out must be contiguous")
    lda, ldo = a.strides[0] // a.itemsize, out.strides[0] // out.itemsize
    if k == 0:
        out.fill(0)
        return
    whole = n // width  # panels written straight into out; a last, partial one goes through a scratch tile
    scratch = np.empty((ROWS, width), a.dtype)
    for j in range(panels):
        p_start = j * k * width
        for i in range(0, m, ROWS):
            rows = min(ROWS, m - i)
            if j < whole:
                if rows == ROWS:
                    tile_rows(a, i * lda, lda, packed, p_start, out, i * ldo + j * width, ldo, k)
                else:
                    for r in range(rows):
                        tile_row(a, (i + r) * lda, lda, packed, p_start, out, (i + r) * ldo + j * width, ldo, k)
            else:
                for r in range(rows):
                    tile_row(a, (i + r) * lda, lda, packed, p_start, scratch, r * width, width, k)
                for r in range(rows):
                    for column in range(n - j * width):
                        out[i + r, j * width + column] = scratch[r, column]


@njit(inline="always", **JIT)
def splits(work, threads):
    """Whether a product of ``work`` multiply-adds is split between ``threads``: the one rule, asked by the threaded
    kernels and (through ``splits.py_func``) by ``Compiled``, which runs such calls with BLAS on one thread."""
    return work >= THREADED_WORK and threads > 1


@njit(inline="always", **JIT)
def row_parts(rows, threads):
    """How many parts a loop whose rows are independent runs in (``codegen/program.py``'s ``RowSplit``): one per
    thread where the call may use them (``threads``) and each part has a whole tile of rows for the packed
    product; else one."""
    return THREADS if threads > 1 and rows >= THREADS * ROWS else 1


@njit(parallel=True, **JIT)
def threaded_product(a, packed, out, threads):
    """``packed_product`` split by columns between threads, each multiplying by its own panels, if it is large enough
    (``splits``) for the ``threads`` the call may use (one in a forked child: ``usable_threads``)."""
    panels, k, width = packed.shape
    if not splits(a.shape[0] * k * out.shape[1], threads):
        packed_product(a, packed, out)
        return
    share = (panels + THREADS - 1) // THREADS
    for part in numba.prange(THREADS):
        first, last = part * share, min(panels, (part + 1) * share)
        if first < last:
            packed_product(a, packed[first:last], out[:, first * width:min(out.shape[1], last * width)])
