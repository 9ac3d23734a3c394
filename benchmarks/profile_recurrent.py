"""Where a recurrent workload's training step (W3-W6) spends its time: every matrix product of graphc's compiled
step, timed as graphc runs it (Numba's ``np.dot``, OpenBLAS) and through PyTorch's ``torch.mm`` (MKL), against the
whole step of graphc and of PyTorch eager, in one run.

    python benchmarks/profile_recurrent.py            # W4 and W6
    python benchmarks/profile_recurrent.py W3 W5

The products are read from the lowered program itself (a loop's products count once per step of the loop), so the
table follows the code generator.
"""

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
from graphc.backends.lowering import lower  # noqa: E402
from graphc.backends.reference import bind_feeds  # noqa: E402


@numba.njit
def _products(a, b, out, calls):
    for _ in range(calls):
        np.dot(a, b, out)


def products(lowered, count: int = 1):
    """(shape of a, shape of b, a transposed, b transposed, times per step) of every matrix product."""
    for node in lowered.steps:
        if node.op.name == "matmul":
            a, b = node.inputs
            yield (lowered.shapes[a], lowered.shapes[b], a.op.name == "transpose", b.op.name == "transpose", count)
        elif node.op.name == "scan":
            yield from products(lowered.bodies[node], count * lowered.attrs(node)["length"])


def operand(shape, transposed: bool, rng) -> np.ndarray:
    """A float32 matrix laid out as graphc's operand is: a transposed operand is a view of a row-major array."""
    if transposed:
        return rng.random(shape[::-1], dtype=np.float32).T
    return rng.random(shape, dtype=np.float32)


def product_seconds(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Seconds for one ``a @ b`` as graphc's compiled code computes it, and through ``torch.mm``."""
    import torch

    out = np.empty((a.shape[0], b.shape[1]), np.float32)
    repeats = max(3, int(1e8 // (2 * a.shape[0] * a.shape[1] * b.shape[1])))
    ours = median_seconds(lambda: _products(a, b, out, repeats), 1) / repeats
    left, right, result = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(out)
    return ours, median_seconds(lambda: torch.mm(left, right, out=result), repeats)


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
    print(f"\n{name}: matrix products of one graphc step (ms per step: count × one product)")
    print(f"{'product':>28} {'count':>6} {'OpenBLAS (graphc)':>18} {'MKL (torch.mm)':>15}")
    totals = {"graphc": 0.0, "torch": 0.0}
    for shape_a, shape_b, transposed_a, transposed_b, count in products(lower(graph, binding)):
        a, b = operand(shape_a, transposed_a, rng), operand(shape_b, transposed_b, rng)
        ours, theirs = product_seconds(a, b)
        totals["graphc"] += ours * count
        totals["torch"] += theirs * count
        label = (f"{shape_a[0]}x{shape_a[1]}{'ᵀ' if transposed_a else ''} @ "
                 f"{shape_b[0]}x{shape_b[1]}{'ᵀ' if transposed_b else ''}")
        print(f"{label:>28} {count:>6} {ours * count * 1e3:>18.2f} {theirs * count * 1e3:>15.2f}")
    print(f"{'all products':>28} {'':>6} {totals['graphc'] * 1e3:>18.2f} {totals['torch'] * 1e3:>15.2f}")
    for peer, seconds in whole.items():
        print(f"whole step, {peer}: {seconds * 1e3:.2f} ms")


def main() -> int:
    for name in sys.argv[1:] or ["W4", "W6"]:
        profile(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
