"""Where a recurrent workload's training step (W3-W6) spends its time: every matrix product of graphc's compiled
step, timed as graphc runs it (a loop's product by a weight it captures: the packed product of
``runtime/packed.py``, the weight packed once; the rest: OpenBLAS through Numba; each split between graphc's threads
where it splits them, with BLAS on one thread, ``runtime/blas.py``), through ``np.dot`` alone (OpenBLAS's own
threads), and through PyTorch's ``torch.mm`` (MKL), against the whole step of graphc and of PyTorch eager, in one
run.

    python benchmarks/profile_recurrent.py            # W4 and W6
    python benchmarks/profile_recurrent.py W3 W5

The products are read from the lowered program itself (a loop's products count once per step of the loop), so the
table follows the code generator.
"""

import contextlib
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import benchmarks.threads  # noqa: E402, F401 - sets the thread variables before NumPy loads

# isort: split

import numba  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import recurrent  # noqa: E402
from benchmarks.report import median_seconds  # noqa: E402
from graphc.backends.codegen.program import threaded_products  # noqa: E402
from graphc.backends.lowering import lower  # noqa: E402
from graphc.backends.reference import bind_feeds  # noqa: E402
from graphc.backends.runtime import blas, packed  # noqa: E402

THREADED = threaded_products()


def repeated(product, threaded=False):
    """A compiled loop calling ``product(a, b, out)`` (with the threads it may use, if ``threaded``) ``calls``
    times: one timed call, no Python per product."""
    threads = packed.THREADS

    @numba.njit
    def run(a, b, out, calls):
        for _ in range(calls):
            if threaded:
                product(a, b, out, threads)
            else:
                product(a, b, out)

    return run


_products = repeated(np.dot)
_packed_products = repeated(packed.threaded_product, True) if THREADED else repeated(packed.packed_product)
_other_products = repeated(blas.threaded_dot, True) if THREADED else _products


def products(lowered, count: int = 1, captured=()):
    """(shape of a, shape of b, a transposed, b transposed, times per step, packed) of every matrix product."""
    for node in lowered.steps:
        if node.op.name == "matmul":
            a, b = node.inputs
            yield (lowered.shapes[a], lowered.shapes[b], a.op.name == "transpose", b.op.name == "transpose", count,
                   b in captured)
        elif node.op.name == "scan":
            yield from products(lowered.bodies[node], count * lowered.attrs(node)["length"],
                                node.attr("body").captures)


def operand(shape, transposed: bool, rng) -> np.ndarray:
    """A float32 matrix laid out as graphc's operand is: a transposed operand is a view of a row-major array."""
    if transposed:
        return rng.random(shape[::-1], dtype=np.float32).T
    return rng.random(shape, dtype=np.float32)


def graphc_seconds(a: np.ndarray, b: np.ndarray, packs: bool) -> float:
    """Seconds for one ``a @ b`` as graphc's compiled code computes it."""
    out = np.empty((a.shape[0], b.shape[1]), np.float32)
    if packs:
        kernel, operands = _packed_products, (np.ascontiguousarray(a), packed.pack_panels(b))
    else:
        kernel, operands = _other_products, (a, b)
    count = repeats(a, b)
    with blas.OneBlasThread() if THREADED else contextlib.nullcontext():
        return median_seconds(lambda: kernel(*operands, out, count), 1) / count


def blas_seconds(a: np.ndarray, b: np.ndarray) -> float:
    """Seconds for one ``a @ b`` through ``np.dot`` (OpenBLAS's own threads)."""
    out, count = np.empty((a.shape[0], b.shape[1]), np.float32), repeats(a, b)
    return median_seconds(lambda: _products(a, b, out, count), 1) / count


def torch_seconds(a: np.ndarray, b: np.ndarray) -> float:
    """Seconds for one ``a @ b`` through ``torch.mm``."""
    import torch

    left, right = torch.from_numpy(a), torch.from_numpy(b)
    result = torch.from_numpy(np.empty((a.shape[0], b.shape[1]), np.float32))
    return median_seconds(lambda: torch.mm(left, right, out=result), repeats(a, b))


def repeats(a: np.ndarray, b: np.ndarray) -> int:
    """Products per timing: about 1e8 floating-point operations' worth, at least 3."""
    return max(3, int(1e8 // (2 * a.shape[0] * a.shape[1] * b.shape[1])))


def profile(name: str) -> None:
    import torch

    torch.set_num_threads(2)
    workload = recurrent.WORKLOADS[name]
    weights = recurrent.initial_weights(workload)
    step, feeds = recurrent.graphc_training(workload, weights)
    torch_step = recurrent.torch_step(workload, weights)
    calls = max(3, int(2e8 // recurrent.flops_per_step(workload)))
    whole = {"graphc": median_seconds(lambda: float(step(feeds)), calls),
             "PyTorch eager": median_seconds(torch_step, calls)}

    graph = step.compiled.graph
    _, binding = bind_feeds(graph, step.compiled_feeds(feeds))
    rng = np.random.default_rng(0)
    rows = [(shape_a, shape_b, transposed_a, transposed_b, count, packs,
             operand(shape_a, transposed_a, rng), operand(shape_b, transposed_b, rng))
            for shape_a, shape_b, transposed_a, transposed_b, count, packs in products(lower(graph, binding))]
    # Each peer's products timed together, graphc's first: a peer's threads (OpenBLAS's, PyTorch's OpenMP team)
    # spin for a while after a threaded call and take the cores from whoever runs next (measured: graphc's packed
    # 32x256 @ 256x1024 ran 2.6x slower right after a torch.mm).
    ours = [graphc_seconds(a, b, packs) for *_, packs, a, b in rows]
    plain = [blas_seconds(a, b) for *_, a, b in rows]
    theirs = [torch_seconds(a, b) for *_, a, b in rows]
    print(f"\n{name}: matrix products of one graphc step (ms per step: count × one product; GFLOP/s as graphc "
          f"runs it)")
    print(f"{'product':>28} {'count':>6} {'graphc':>9} {'GFLOP/s':>8} {'np.dot':>9} {'torch.mm':>9}")
    totals = {"graphc": 0.0, "blas": 0.0, "torch": 0.0}
    for row, *seconds in zip(rows, ours, plain, theirs):
        shape_a, shape_b, transposed_a, transposed_b, count, packs, _, _ = row
        for peer, each in zip(totals, seconds):
            totals[peer] += each * count
        label = (f"{shape_a[0]}x{shape_a[1]}{'ᵀ' if transposed_a else ''} @ "
                 f"{shape_b[0]}x{shape_b[1]}{'ᵀ' if transposed_b else ''}{' (packed)' if packs else ''}")
        rate = 2 * shape_a[0] * shape_a[1] * shape_b[1] / seconds[0] / 1e9
        print(f"{label:>28} {count:>6} {seconds[0] * count * 1e3:>9.2f} {rate:>8.0f} {seconds[1] * count * 1e3:>9.2f} "
              f"{seconds[2] * count * 1e3:>9.2f}")
    print(f"{'all products':>28} {'':>6} {totals['graphc'] * 1e3:>9.2f} {'':>8} {totals['blas'] * 1e3:>9.2f} "
          f"{totals['torch'] * 1e3:>9.2f}")
    for peer, seconds in whole.items():
        print(f"whole step, {peer}: {seconds * 1e3:.2f} ms")


def main() -> int:
    for name in sys.argv[1:] or ["W4", "W6"]:
        profile(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
