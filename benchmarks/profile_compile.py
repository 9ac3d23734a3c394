"""Where a cold compile's time goes in Numba: every function Numba compiles while graphc builds a workload's step
and runs it once (listened to through ``numba:compile`` events, nested calls included), with the seconds each
took, the time spent holding LLVM's lock, and the compiler passes of the generated ``run``. Run it with empty
caches, or nothing is compiled:

    NUMBA_CACHE_DIR=$(mktemp -d) GRAPHC_CACHE_DIR=$(mktemp -d) python benchmarks/profile_compile.py W4

A workload is W1-W6, or ``bidirectional``: compile.py's 2-layer bidirectional LSTM (T 5, batch 3).
"""

import collections
import gc
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import benchmarks.threads  # noqa: E402, F401 - sets the thread variables before NumPy loads

# isort: split

from numba.core import event  # noqa: E402
from numba.core.registry import CPUDispatcher as Dispatcher  # noqa: E402

from benchmarks import mlp, recurrent  # noqa: E402


class Compilations(event.Listener):
    """(qualified name, seconds, nesting depth) of every function Numba compiles."""

    def __init__(self):
        self.open, self.done = [], []

    def on_start(self, ev):
        dispatcher = ev.data.get("dispatcher")
        self.open.append((time.perf_counter(), dispatcher.py_func.__qualname__ if dispatcher else "?"))

    def on_end(self, ev):
        started, name = self.open.pop()
        self.done.append((name, time.perf_counter() - started, len(self.open)))


class Held(event.Listener):
    """Seconds a lock (LLVM's) was held."""

    def __init__(self):
        self.seconds = 0.0

    def on_start(self, ev):
        self.started = time.perf_counter()

    def on_end(self, ev):
        self.seconds += time.perf_counter() - self.started


def bidirectional_step():
    """compile.py's 2-layer bidirectional LSTM language model's first step."""
    import numpy as np

    import graphc
    from graphc import nn
    from graphc.train import language

    model = nn.language_model("lstm", 30, embed=8, hidden=16, layers=2, bidirectional=True)
    rng = np.random.default_rng(0)
    feeds = {**graphc.init_params(model.params), "tokens": rng.integers(0, 30, (5, 3)),
             "targets": rng.integers(0, 30, (5, 3)), **language.zero_state(model, 3)}
    graphc.compile_step(model.loss, model.params, lr=0.1)(feeds)


def main(name: str) -> int:
    compilations, llvm = Compilations(), Held()
    event.register("numba:compile", compilations)
    event.register("numba:llvm_lock", llvm)
    if name == "bidirectional":
        begin = time.perf_counter()
        bidirectional_step()
    else:
        module = mlp if name in mlp.WORKLOADS else recurrent
        workload = module.WORKLOADS[name]
        weights = module.initial_weights(workload)
        begin = time.perf_counter()
        module.graphc_step(workload, weights)()
    total = time.perf_counter() - begin
    outermost = sum(seconds for _, seconds, depth in compilations.done if depth == 0)
    print(f"{name}: first step {total:.2f} s; Numba compiling {outermost:.2f} s (LLVM's lock held "
          f"{llvm.seconds:.2f} s); {len(compilations.done)} functions compiled")
    by_name = collections.defaultdict(lambda: [0, 0.0])
    for function, seconds, _ in compilations.done:
        by_name[function][0] += 1
        by_name[function][1] += seconds
    print("seconds  count  function (nested compilations count in their callers too)")
    for function, (count, seconds) in sorted(by_name.items(), key=lambda item: -item[1][1])[:25]:
        print(f"{seconds:7.2f}  {count:5d}  {function}")
    print("the generated run's compiler passes (seconds; typing includes compiling the functions it calls):")
    for passes in pipeline_times("run").values():
        ranked = sorted(((t.init + t.run + t.finalize, name.split("_", 1)[-1]) for name, t in passes.items()),
                        reverse=True)
        print("  " + ", ".join(f"{name} {seconds:.2f}" for seconds, name in ranked[:4]))
    return 0


def pipeline_times(name: str) -> dict:
    """Numba's per-pass times for the compiled dispatcher named ``name`` (one compiled signature)."""
    for candidate in gc.get_objects():
        if isinstance(candidate, Dispatcher) and candidate.py_func.__name__ == name:
            for result in candidate.overloads.values():
                return result.metadata.get("pipeline_times", {})
    return {}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "W4"))
