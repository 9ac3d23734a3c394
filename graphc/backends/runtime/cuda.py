"""CUDA kernels that generated CUDA modules launch, with host launchers named and shaped like ``runtime/cpu.py``'s row
kernels, so the two emitters print the same calls for structured ops.

Row-wise ops (reductions, softmax, cross-entropy) give each row one thread block, which reduces through shared
memory; element-wise work loops grid-stride, so any launch size covers any array. Imported only by generated CUDA
modules: the CPU path never loads numba.cuda.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import cuda

# Under the simulator every CUDA thread is a Python thread: few, small blocks keep the tests quick. Grid-stride
# loops make results independent of the launch size.
SIMULATED = bool(numba.config.ENABLE_CUDASIM)
if SIMULATED:
    from . import simulator

    simulator.configure()
THREADS = 8 if SIMULATED else 256  # threads per block; a power of two (the tree reductions halve it)
MAX_BLOCKS = 2 if SIMULATED else 1024
TILE = 8 if SIMULATED else 16  # the matrix product's square tile (TILE × TILE threads per block)
MAX_TILES = 2 if SIMULATED else 65535  # blocks per axis of the matrix product's grid


def grid(elements: int) -> tuple[int, int]:
    """Blocks and threads for a grid-stride loop over ``elements``."""
    return max(1, min(MAX_BLOCKS, -(-elements // THREADS))), THREADS


def rows_grid(rows: int) -> tuple[int, int]:
    """One block per row (grid-striding over rows past ``MAX_BLOCKS``)."""
    return max(1, min(MAX_BLOCKS, rows)), THREADS


# --- scalar functions that generated element-wise kernels call ------------------------------------------------------
@cuda.jit(device=True)
def sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@cuda.jit(device=True)
def softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@cuda.jit(device=True)
def sign(x):
    if x != x:
        return x  # NaN stays NaN
    return 1 if x > 0 else (-1 if x < 0 else 0)


@cuda.jit(device=True)
def _maximum(a, b):
    """The larger of a and b, NaN if either is NaN (np.maximum)."""
    return a if a >= b or a != a else b


# --- block reductions: every thread of the block passes its partial result, every thread gets the total -------------
@cuda.jit(device=True)
def _block_reduce(partial, value, maximum):
    """The block's sum of ``value`` (its maximum when ``maximum``), by halving tree through ``partial``."""
    t = cuda.threadIdx.x
    partial[t] = value
    cuda.syncthreads()
    step = THREADS // 2
    while step > 0:
        if t < step:
            partial[t] = _maximum(partial[t], partial[t + step]) if maximum else partial[t] + partial[t + step]
        cuda.syncthreads()
        step //= 2
    total = partial[0]
    cuda.syncthreads()  # before the caller's next use of ``partial`` overwrites it
    return total


@cuda.jit(device=True)
def _block_sum(partial, value):
    return _block_reduce(partial, value, False)


@cuda.jit(device=True)
def _block_max(partial, value):
    return _block_reduce(partial, value, True)


@cuda.jit(device=True)
def _row_max(x, r, partial):
    best = -math.inf
    for j in range(cuda.threadIdx.x, x.shape[1], cuda.blockDim.x):
        best = _maximum(best, x[r, j])
    return _block_max(partial, best)


@cuda.jit(device=True)
def _row_log_sum_exp(x, r, partial):
    """log(sum_j exp(x[r, j])), the maximum subtracted first so no exponent overflows."""
    best = _row_max(x, r, partial)
    total = 0.0
    for j in range(cuda.threadIdx.x, x.shape[1], cuda.blockDim.x):
        total += math.exp(x[r, j] - best)
    return best + math.log(_block_sum(partial, total))


# --- row kernels: x is (rows, n), out has a value per row -----------------------------------------------------------
@cuda.jit
def _row_sum(x, out):
    partial = cuda.shared.array(THREADS, numba.float64)
    for r in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        total = 0.0
        for j in range(cuda.threadIdx.x, x.shape[1], cuda.blockDim.x):
            total += x[r, j]
        total = _block_sum(partial, total)
        if cuda.threadIdx.x == 0:
            out[r] = total


@cuda.jit
def _column_sum(x, out):
    """Sums over the leading axis: a thread per column reads the rows in memory order, coalesced."""
    for j in range(cuda.grid(1), x.shape[1], cuda.gridsize(1)):
        total = 0.0
        for r in range(x.shape[0]):
            total += x[r, j]
        out[j] = total


@cuda.jit
def _row_max_kernel(x, out):
    partial = cuda.shared.array(THREADS, numba.float64)
    for r in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        best = _row_max(x, r, partial)
        if cuda.threadIdx.x == 0:
            out[r] = best


@cuda.jit
def _row_argmax(x, out):
    """The first index of each row's maximum, as NumPy's argmax: the block's minimum index among the maxima."""
    partial = cuda.shared.array(THREADS, numba.float64)
    for r in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        best = _row_max(x, r, partial)
        where = x.shape[1]
        for j in range(cuda.threadIdx.x, x.shape[1], cuda.blockDim.x):
            if (x[r, j] == best or x[r, j] != x[r, j] and best != best) and j < where:  # the first NaN, if any
                where = j
        where = -_block_max(partial, -where)  # the minimum
        if cuda.threadIdx.x == 0:
            out[r] = int(where)


@cuda.jit
def _row_log_softmax(x, out):
    partial = cuda.shared.array(THREADS, numba.float64)
    for r in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        shift = _row_log_sum_exp(x, r, partial)
        for j in range(cuda.threadIdx.x, x.shape[1], cuda.blockDim.x):
            out[r, j] = x[r, j] - shift


@cuda.jit
def _row_softmax(x, out):
    partial = cuda.shared.array(THREADS, numba.float64)
    for r in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        best = _row_max(x, r, partial)
        total = 0.0
        for j in range(cuda.threadIdx.x, x.shape[1], cuda.blockDim.x):
            total += math.exp(x[r, j] - best)
        scale = 1.0 / _block_sum(partial, total)
        for j in range(cuda.threadIdx.x, x.shape[1], cuda.blockDim.x):
            out[r, j] = math.exp(x[r, j] - best) * scale


@cuda.jit(device=True)
def _outside(index, bound, status, check, position) -> bool:
    """Whether ``index`` is outside 0 .. bound - 1; the first thread to find one records it in ``status``
    (check number, flat position, index, bound), which the host reads after the program (a device cannot raise)."""
    if 0 <= index < bound:
        return False
    if cuda.atomic.compare_and_swap(status, -1, check) == -1:
        status[1], status[2], status[3] = position, index, bound
    return True


@cuda.jit
def _row_cross_entropy(logits, labels, out, status, check):
    partial = cuda.shared.array(THREADS, numba.float64)
    for r in range(cuda.blockIdx.x, logits.shape[0], cuda.gridDim.x):
        if _outside(labels[r], logits.shape[1], status, check, r):
            continue  # uniform across the block: every thread reads the same label
        total = _row_log_sum_exp(logits, r, partial)
        if cuda.threadIdx.x == 0:
            out[r] = total - logits[r, labels[r]]


@cuda.jit
def _row_pick(values, labels, out, status, check):
    for r in range(cuda.grid(1), values.shape[0], cuda.gridsize(1)):
        if not _outside(labels[r], values.shape[1], status, check, r):
            out[r] = values[r, labels[r]]


@cuda.jit
def _gather_rows(table, indices, out, status, check):
    width = table.shape[1]
    for flat in range(cuda.grid(1), indices.shape[0] * width, cuda.gridsize(1)):
        r, j = flat // width, flat % width
        if not _outside(indices[r], table.shape[0], status, check, r):
            out[r, j] = table[indices[r], j]


@cuda.jit
def _scatter_add_rows(indices, updates, out, status, check):
    """Rows added into ``out`` (zeroed first); atomics, since two updates may go to the same row."""
    width = updates.shape[1]
    for flat in range(cuda.grid(1), indices.shape[0] * width, cuda.gridsize(1)):
        r, j = flat // width, flat % width
        if not _outside(indices[r], out.shape[0], status, check, r):
            cuda.atomic.add(out, (indices[r], j), updates[r, j])


@cuda.jit
def _one_hot_rows(labels, out, status, check):
    for r in range(cuda.grid(1), labels.shape[0], cuda.gridsize(1)):
        if not _outside(labels[r], out.shape[1], status, check, r):
            out[r, labels[r]] = 1


@cuda.jit
def _fill(flat, value):
    for i in range(cuda.grid(1), flat.shape[0], cuda.gridsize(1)):
        flat[i] = value


# SplitMix64's constants (Steele, Lea and Flood 2014).
GOLDEN = numba.uint64(0x9E3779B97F4A7C15)
MIX1, MIX2 = numba.uint64(0xBF58476D1CE4E5B9), numba.uint64(0x94D049BB133111EB)


@cuda.jit
def _uniform(flat, seed):
    """Counter-based uniform numbers in [0, 1): SplitMix64 of (seed, index), its top 53 bits scaled. No generator
    state to keep or copy: any thread draws any element."""
    for i in range(cuda.grid(1), flat.shape[0], cuda.gridsize(1)):
        z = numba.uint64(seed) * GOLDEN + numba.uint64(i + 1) * MIX1
        z = (z ^ (z >> numba.uint64(30))) * MIX1
        z = (z ^ (z >> numba.uint64(27))) * MIX2
        z = z ^ (z >> numba.uint64(31))
        flat[i] = (z >> numba.uint64(11)) * (1.0 / 9007199254740992.0)  # 2**-53


# Copies of one array into another of the same shape, either of them strided (views, slices): one per rank.
@cuda.jit
def _copy1(source, target):
    for i in range(cuda.grid(1), target.shape[0], cuda.gridsize(1)):
        target[i] = source[i]


@cuda.jit
def _copy2(source, target):
    for flat in range(cuda.grid(1), target.size, cuda.gridsize(1)):
        i, j = flat // target.shape[1], flat % target.shape[1]
        target[i, j] = source[i, j]


@cuda.jit
def _copy3(source, target):
    for flat in range(cuda.grid(1), target.size, cuda.gridsize(1)):
        rest, k = flat // target.shape[2], flat % target.shape[2]
        i, j = rest // target.shape[1], rest % target.shape[1]
        target[i, j, k] = source[i, j, k]


@cuda.jit
def _copy4(source, target):
    for flat in range(cuda.grid(1), target.size, cuda.gridsize(1)):
        rest, m = flat // target.shape[3], flat % target.shape[3]
        rest, k = rest // target.shape[2], rest % target.shape[2]
        i, j = rest // target.shape[1], rest % target.shape[1]
        target[i, j, k, m] = source[i, j, k, m]


_COPY = {1: _copy1, 2: _copy2, 3: _copy3, 4: _copy4}


def _matmul_kernel(dtype):
    """C = A @ B through TILE × TILE tiles in shared memory; A and B may be strided (a transposed view). Blocks
    grid-stride over C's tiles; every thread of a block takes the same loop trips, so the barriers are uniform."""
    zero = dtype(0)

    @cuda.jit
    def product(a, b, c):
        a_tile = cuda.shared.array((TILE, TILE), dtype)
        b_tile = cuda.shared.array((TILE, TILE), dtype)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        for tile_row in range(cuda.blockIdx.y, (c.shape[0] + TILE - 1) // TILE, cuda.gridDim.y):
            for tile_column in range(cuda.blockIdx.x, (c.shape[1] + TILE - 1) // TILE, cuda.gridDim.x):
                row, column = tile_row * TILE + ty, tile_column * TILE + tx
                total = zero
                for start in range(0, a.shape[1], TILE):
                    a_tile[ty, tx] = a[row, start + tx] if row < a.shape[0] and start + tx < a.shape[1] else zero
                    b_tile[ty, tx] = b[start + ty, column] if start + ty < b.shape[0] and column < b.shape[1] else zero
                    cuda.syncthreads()
                    for k in range(TILE):
                        total += a_tile[ty, k] * b_tile[k, tx]
                    cuda.syncthreads()
                if row < c.shape[0] and column < c.shape[1]:
                    c[row, column] = total
    return product


_MATMUL = {np.dtype(np.float32): _matmul_kernel(numba.float32), np.dtype(np.float64): _matmul_kernel(numba.float64)}


# --- host launchers ---------------------------------------------------------------------------------------------------
def matmul(a, b, out):
    blocks = (min(MAX_TILES, -(-out.shape[1] // TILE)), min(MAX_TILES, -(-out.shape[0] // TILE)))
    _MATMUL[np.dtype(out.dtype)][blocks, (TILE, TILE)](a, b, out)


def _per_row(kernel):
    """The launcher of a row kernel: a block per row of its first argument."""
    def launch(x, *rest):
        kernel[rows_grid(x.shape[0])](x, *rest)
    return launch


row_sum, row_max, row_argmax = _per_row(_row_sum), _per_row(_row_max_kernel), _per_row(_row_argmax)
row_softmax, row_log_softmax = _per_row(_row_softmax), _per_row(_row_log_softmax)
row_cross_entropy = _per_row(_row_cross_entropy)  # (logits, labels, out, status, check)


def column_sum(x, out):
    _column_sum[grid(x.shape[1])](x, out)


def row_pick(values, labels, out, status, check):
    _row_pick[grid(values.shape[0])](values, labels, out, status, check)


def gather_rows(table, indices, out, status, check):
    _gather_rows[grid(out.size)](table, indices, out, status, check)


def scatter_add_rows(indices, updates, out, status, check):
    fill(out, 0)
    _scatter_add_rows[grid(updates.size)](indices, updates, out, status, check)


def one_hot_rows(labels, out, status, check):
    fill(out, 0)
    _one_hot_rows[grid(labels.shape[0])](labels, out, status, check)


def fill(x, value):
    flat = x.reshape(x.size)
    _fill[grid(x.size)](flat, value)


def uniform(out, seed: int):
    _uniform[grid(out.size)](out.reshape(out.size), seed)


def copy(source, target):
    """``target[...] = source`` on the device (same shapes; scalars are 1-element arrays)."""
    if target.ndim == 0 or target.size == 0:
        return
    if source.shape != target.shape:
        source = source.reshape(target.shape)
    _COPY[target.ndim][grid(target.size)](source, target)


def empty(shape, dtype):
    return cuda.device_array(shape, dtype)


def contiguous(x):
    """``x`` itself when it is C-contiguous, else a contiguous copy (a view cannot be reshaped in place)."""
    if x.is_c_contiguous():
        return x
    out = cuda.device_array(x.shape, x.dtype)
    copy(x, out)
    return out


def duplicate(x):
    out = cuda.device_array(x.shape, x.dtype)
    copy(x, out)
    return out
