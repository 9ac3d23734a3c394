"""A stand-in for W4's forward recurrence (64 steps of the packed product (32 x 256) @ (256 x 1024) and the fused
LSTM gates, float32), run two ways in one process: the product split by columns between graphc's threads at every
step with the gates on one thread (what ``GRAPHC_SPLIT_LOOPS=0`` generates), and each thread running every step on
its half of the batch (graphc's default). Prints both times (median of 7 x 20 runs) and whether the results are
bit-identical.

    python benchmarks/row_split.py
"""

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import benchmarks.threads  # noqa: E402, F401 - sets the thread variables before NumPy loads

# isort: split

import numba  # noqa: E402
import numpy as np  # noqa: E402

from graphc.backends.runtime import cpu_math as rm  # noqa: E402
from graphc.backends.runtime import packed as rp  # noqa: E402
from graphc.backends.runtime.blas import OneBlasThread  # noqa: E402

T, B, H = 64, 32, 256


@numba.njit(error_model="numpy")
def gates(pre, xs, c, h, hs, lo, hi):
    for b in range(lo, hi):
        for j in range(H):
            i = rm.sigmoid32(pre[b, j] + xs[b, j])
            f = rm.sigmoid32(pre[b, H + j] + xs[b, H + j])
            g = rm.tanh32(pre[b, 2 * H + j] + xs[b, 2 * H + j])
            o = rm.sigmoid32(pre[b, 3 * H + j] + xs[b, 3 * H + j])
            c[b, j] = f * c[b, j] + i * g
            h[b, j] = o * rm.tanh32(c[b, j])
            hs[b, j] = h[b, j]


@numba.njit(error_model="numpy")
def by_columns(xs, up, h, c, pre, hs, threads):
    for t in range(xs.shape[0]):
        rp.threaded_product(h, up, pre, threads)
        gates(pre, xs[t], c, h, hs[t], 0, h.shape[0])


@numba.njit(error_model="numpy")
def rows(xs, up, h, c, pre, hs, lo, hi):
    for t in range(xs.shape[0]):
        rp.packed_product(h[lo:hi], up, pre[lo:hi])
        gates(pre, xs[t], c, h, hs[t], lo, hi)


@numba.njit(error_model="numpy", parallel=True)
def by_rows(xs, up, h, c, pre, hs, threads):
    share = (h.shape[0] + threads - 1) // threads
    for part in numba.prange(threads):
        rows(xs, up, h, c, pre, hs, part * share, min(h.shape[0], (part + 1) * share))


def main() -> int:
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((T, B, 4 * H)).astype(np.float32)
    up = rp.pack_panels((rng.standard_normal((H, 4 * H)) * 0.05).astype(np.float32))

    def state():
        return (np.zeros((B, H), np.float32), np.zeros((B, H), np.float32), np.empty((B, 4 * H), np.float32),
                np.empty((T, B, H), np.float32))

    def median_ms(loop):
        times = []
        for _ in range(7):
            arrays = state()
            start = time.perf_counter()
            for _ in range(20):
                loop(xs, up, *arrays, rp.THREADS)
            times.append((time.perf_counter() - start) / 20)
        return np.median(times) * 1e3

    with OneBlasThread():
        outputs = []
        for loop in (by_columns, by_rows):
            arrays = state()
            loop(xs, up, *arrays, rp.THREADS)
            outputs.append(arrays[3])
        print(f"threads: {rp.THREADS}; results bit-identical: {np.array_equal(*outputs)}")
        for _ in range(2):
            print(f"product split by columns, gates on one thread: {median_ms(by_columns):.3f} ms; "
                  f"each thread on its rows: {median_ms(by_rows):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
