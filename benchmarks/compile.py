"""Compile latency: how long a user waits before graphc's first result, against JAX jit in the same run.

Each case runs in a new Python process; "cold" gives it empty graphc and Numba caches for the model's own code, with
the runtime's kernels as setup precompiled them (``graphc cache --precompile``, run first), and "nothing
precompiled" an empty folder for those too; "warm" the caches a cold run filled. The times count from just before
the model is built to the first loss (imports not included; they are printed once). Cases that reuse a compiled step
run in the process that compiled it.

    python benchmarks/compile.py               # measure, print, and write the table into docs/benchmarks.md
    python benchmarks/compile.py --print-only
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import benchmarks.threads  # noqa: E402, F401 - sets the thread variables before NumPy loads

# isort: split

import argparse  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

from benchmarks import report  # noqa: E402

W4 = "{'kind': 'lstm', 'vocabulary': 65, 'embed': 64, 'hidden': 256, 'steps': 64, 'batch': 32}"

# A character language model trained for 5 steps and validated once, as the Trainer does at the end of an epoch.
LM = """
from graphc import data, nn, optim
from graphc.train import Trainer, language
documents = data.builtin_documents()[:40]
vocabulary = data.Vocabulary.build(documents)
stream = vocabulary.stream(documents)
model = nn.language_model('lstm', len(vocabulary), embed=16, hidden=64)
trainer = Trainer(model, optim.Adam(0.003), progress=False)
trainer.fit(data.Windows(stream[:20000], seq_len=32, batch=16), max_steps=5)
trainer.evaluate(data.Windows(stream[22000:24000], seq_len=32, batch=16))
"""

W4_FIRST_STEP = f"""
from benchmarks.recurrent import graphc_step, initial_weights
w = {W4}; weights = initial_weights(w); begin = time.perf_counter()
graphc_step(w, weights)(); print(time.perf_counter() - begin)"""

W2_FIRST_STEP = """
from benchmarks.mlp import WORKLOADS, graphc_step, initial_weights
w = WORKLOADS['W2']; graphc_step(w, initial_weights(w))(); print(0)"""

W1_FIRST_STEP = """
from benchmarks.mlp import WORKLOADS, graphc_step, initial_weights
w = WORKLOADS['W1']; weights = initial_weights(w); begin = time.perf_counter()
graphc_step(w, weights)(); print(time.perf_counter() - begin)"""

# Each case: (its caches, code that prints the seconds it measured, last; ``begin`` is set just before the model is
# built). "empty": caches of its own, empty; "W4's cache": one pair of caches, empty for the cold case that comes
# first and filled by it for the warm one; "W2's cache": caches that a W2 run in another process filled; "nothing
# precompiled": empty caches, the runtime's kernels' included. All but the last load the precompiled runtime.
CASES = {
    "W4 cold: new process, empty caches, to the first step's loss": ("W4's cache", W4_FIRST_STEP),
    "W1 cold": ("empty", W1_FIRST_STEP),
    "W1, a new model after another (W2) filled the caches: new process": ("W2's cache", W1_FIRST_STEP),
    "W4 again with another batch size and sequence length, same process": ("empty", f"""
import numpy as np
from benchmarks.recurrent import build, graphc_training, initial_weights
from graphc.train import language
w = {W4}; step, feeds = graphc_training(w, initial_weights(w)); step(feeds)
other = {{**feeds, 'tokens': np.ascontiguousarray(feeds['tokens'][:32, :16]),
          'targets': np.ascontiguousarray(feeds['targets'][:32, :16]), **language.zero_state(build(w), 16)}}
begin = time.perf_counter(); step(other); print(time.perf_counter() - begin)"""),
    "W4 with hidden 128 after hidden 256 was compiled, same process": ("empty", f"""
from benchmarks.recurrent import graphc_step, initial_weights
w = {W4}; graphc_step(w, initial_weights(w))()
w = {{**w, 'hidden': 128}}; weights = initial_weights(w); begin = time.perf_counter()
graphc_step(w, weights)(); print(time.perf_counter() - begin)"""),
    "perplexity evaluation after training with validation (character LSTM, hidden 64)": ("empty", LM + """
begin = time.perf_counter(); language.perplexity(model, trainer.params, stream[20000:22000], seq_len=32, batch=8)
print(time.perf_counter() - begin)"""),
    "generation after training with validation": ("empty", LM + """
begin = time.perf_counter(); language.generate(model, trainer.params, vocabulary, 'The ', max_tokens=20)
print(time.perf_counter() - begin)"""),
    "W4 warm: new process, caches filled": ("W4's cache", W4_FIRST_STEP),
    "2-layer bidirectional LSTM, T 5, batch 3, cold": ("empty", """
import numpy as np, graphc
from graphc import nn
begin = time.perf_counter()
model = nn.language_model('lstm', 30, embed=8, hidden=16, layers=2, bidirectional=True)
step = graphc.compile_step(model.loss, model.params, lr=0.1)
rng = np.random.default_rng(0)
feeds = {**graphc.init_params(model.params), 'tokens': rng.integers(0, 30, (5, 3)),
         'targets': rng.integers(0, 30, (5, 3))}
from graphc.train import language
feeds.update(language.zero_state(model, 3))
step(feeds); print(time.perf_counter() - begin)"""),
    "W4 cold, the runtime's kernels not precompiled either": ("nothing precompiled", W4_FIRST_STEP),
    "W1 cold, the runtime's kernels not precompiled either": ("nothing precompiled", W1_FIRST_STEP),
}

# The targets (issue 15), shown beside the measurements.
TARGETS = ["<= 3 s", "<= 1 s", "", "<= 0.1 s", "<= 1 s", "<= 0.5 s", "<= 0.5 s", "<= 0.3 s", "<= 5 s", "", ""]

JAX_W4 = f"""
from benchmarks.recurrent import jax_step, initial_weights
w = {W4}; weights = initial_weights(w); begin = time.perf_counter()
jax_step(w, weights)(); print(time.perf_counter() - begin)"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print-only", action="store_true", help="measure and print; leave docs/benchmarks.md")
    arguments = parser.parse_args()
    subprocess.run([sys.executable, "-m", "graphc", "cache", "--precompile"], check=True)  # seconds when done before
    rows = []
    with tempfile.TemporaryDirectory() as w4_cache:
        for name, (caches, code) in CASES.items():
            with tempfile.TemporaryDirectory() as empty:
                if caches == "W2's cache":
                    report.in_fresh_process(W2_FIRST_STEP, empty)
                runtime = os.path.join(empty, "runtime") if caches == "nothing precompiled" else None
                seconds = float(report.in_fresh_process(code, w4_cache if caches == "W4's cache" else empty,
                                                        runtime))
            rows.append((name, seconds))
            print(f"{name}: {seconds:.2f} s", flush=True)
    try:
        with tempfile.TemporaryDirectory() as empty:
            jax = float(report.in_fresh_process(JAX_W4, empty))
    except subprocess.CalledProcessError as error:  # JAX is a peer (make bench installs it); graphc's rows stand
        print(f"JAX jit: not measured ({error.stderr.strip().splitlines()[-1]})")
        jax = None
    else:
        print(f"JAX jit, W4 first step (trace + XLA compile): {jax:.2f} s")
    lines = ["", *report.environment(), "Command: `python benchmarks/compile.py` (each case in a new process; cold: "
             "empty graphc and Numba caches, the runtime's kernels precompiled by setup unless the row says not).",
             "", "| case | graphc | target |", "|---|---|---|"]
    lines += [f"| {name} | {seconds:.2f} s | {target} |" for (name, seconds), target in zip(rows, TARGETS)]
    if jax is not None:
        lines += [f"| JAX jit + lax.scan, W4 first step (new process, empty caches) | {jax:.2f} s | |"]
    if not arguments.print_only:
        report.write_section("compile", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
