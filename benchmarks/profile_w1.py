"""Where W1's training step spends its time in graphc: the Python around the native call, Numba's dispatch, the
native step, and the cost of a scalar ``math.tanh`` loop (what the forward tanh kernel is) against ``np.tanh``.

    python benchmarks/profile_w1.py
"""

import math
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import benchmarks.threads  # noqa: E402, F401 - sets the thread variables before NumPy loads

# isort: split

import numba  # noqa: E402
import numpy as np  # noqa: E402

import graphc  # noqa: E402
from benchmarks.mlp import WORKLOADS, data, initial_weights  # noqa: E402
from benchmarks.report import median_seconds  # noqa: E402
from graphc.backends.compiled import as_argument  # noqa: E402
from graphc.models import mlp  # noqa: E402


def microseconds(function, calls: int = 3000) -> float:
    """Median over 5 repeats of the mean µs per call."""
    return median_seconds(function, calls) * 1e6


@numba.njit(error_model="numpy")
def scalar_tanh(values, out):
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            out[i, j] = math.tanh(values[i, j])


def main() -> int:
    workload = WORKLOADS["W1"]
    model = mlp.build(sizes=workload["sizes"], activation=workload["activation"])
    x, labels = data(workload)
    feeds = {p.name: w.copy() for p, w in zip(model.params, initial_weights(workload))}
    feeds.update(x=x, labels=labels)
    step = graphc.compile_step(model.loss, model.params, workload["lr"])
    step(feeds)
    specialization = next(iter(step.compiled.specializations.values()))
    everything = step.compiled_feeds(feeds)
    arguments = ([as_argument(everything[n]) for n in specialization.feeds] + specialization.constants
                 + specialization.workspace + [*specialization.dimensions, 0, specialization.status, 1])
    namespace = {"numba": numba}
    exec(f"@numba.njit\ndef empty({', '.join(f'a{i}' for i in range(len(arguments)))}):\n    return 0\n", namespace)
    full = microseconds(lambda: step(feeds))
    native = microseconds(lambda: specialization.module.run(*arguments))
    dispatch = microseconds(lambda: namespace["empty"](*arguments))
    hidden = np.random.default_rng(0).normal(size=(workload["batch"], workload["sizes"][1])).astype(np.float32)
    out = np.empty_like(hidden)
    loop = microseconds(lambda: scalar_tanh(hidden, out))
    vectorized = microseconds(lambda: np.tanh(hidden, out=out))
    print(f"W1 step through graphc.compile_step: {full:.1f} µs")
    print(f"  the native run() alone:              {native:.1f} µs (graphc's Python around it: {full - native:.1f} µs)")
    print(f"  Numba dispatch of {len(arguments)} arguments:       {dispatch:.1f} µs (an empty njit function)")
    print(f"  tanh over {hidden.shape}, scalar math.tanh loop: {loop:.1f} µs; np.tanh: {vectorized:.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
