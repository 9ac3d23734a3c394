"""W1 and W2 of workloads.md: one MLP training step (forward, backward, SGD update), graphc against its peers.

    python benchmarks/mlp.py                 # every workload and peer; writes the MLP section of docs/benchmarks.md
    python benchmarks/mlp.py --steps 20      # fewer steps per repeat (quicker, noisier)

Peers: PyTorch eager, torch.compile, JAX jit, and a hand-written NumPy forward+backward, with the same initial
weights and data. All use 2 threads. Peers are installed by `make bench`, never required by graphc.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import benchmarks.threads  # noqa: E402, F401 - sets the thread variables before NumPy loads

# isort: split

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import graphc  # noqa: E402
from benchmarks import report  # noqa: E402
from graphc.models import mlp  # noqa: E402

WORKLOADS = {
    "W1": {"sizes": (64, 128, 10), "activation": "tanh", "batch": 64, "lr": 0.1},
    "W2": {"sizes": (784, 1024, 1024, 10), "activation": "relu", "batch": 256, "lr": 0.1},
}
LOSS_STEPS = 20


def data(workload: dict):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(workload["batch"], workload["sizes"][0])).astype(np.float32)
    labels = rng.integers(0, workload["sizes"][-1], workload["batch"])
    return x, labels


def initial_weights(workload: dict) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...] from graphc's initializers, shared by every peer."""
    model = mlp.build(sizes=workload["sizes"], activation=workload["activation"])
    values = graphc.init_params(model.params, seed=0)
    return [values[p.name] for p in model.params]


def flops_per_step(workload: dict) -> float:
    """Matrix-multiply FLOPs: forward, weight gradients, and input gradients of every layer but the first."""
    batch, sizes = workload["batch"], workload["sizes"]
    products = [n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return 2.0 * batch * (2 * sum(products) + sum(products[1:]))


def logits(params, x, activation):
    """The MLP's forward pass, written once for PyTorch and JAX arrays alike."""
    h = x
    for layer in range(len(params) // 2):
        h = h @ params[2 * layer] + params[2 * layer + 1]
        if layer < len(params) // 2 - 1:
            h = activation(h)
    return h


# --- peers: each returns step() -> loss (as a float, after the update) ----------------------------------------------
def graphc_step(workload, weights, device="cpu"):
    model = mlp.build(sizes=workload["sizes"], activation=workload["activation"])
    x, labels = data(workload)
    feeds = {p.name: w.copy() for p, w in zip(model.params, weights)}
    feeds.update(x=x, labels=labels)
    step = graphc.compile_step(model.loss, model.params, workload["lr"], backend=device)
    return lambda: float(step(feeds))


def torch_step(workload, weights, compiled=False, device="cpu"):
    import torch

    torch.set_num_threads(2)
    x, labels = data(workload)
    x, labels = torch.tensor(x, device=device), torch.tensor(labels, device=device)
    params = [torch.tensor(w, requires_grad=True, device=device) for w in weights]
    activation = torch.tanh if workload["activation"] == "tanh" else torch.relu

    def loss_of(params, x, labels):
        return torch.nn.functional.cross_entropy(logits(params, x, activation), labels)

    forward = torch.compile(loss_of) if compiled else loss_of

    def step():
        loss = forward(params, x, labels)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= workload["lr"] * p.grad
                p.grad = None
        return float(loss.detach())

    return step


def jax_step(workload, weights):
    import jax
    import jax.numpy as jnp

    x, labels = data(workload)
    activation = jnp.tanh if workload["activation"] == "tanh" else jax.nn.relu

    def loss_of(params, x, labels):
        log_probabilities = jax.nn.log_softmax(logits(params, x, activation))
        return -jnp.mean(jnp.take_along_axis(log_probabilities, labels[:, None], axis=1))

    @jax.jit
    def update(params, x, labels):
        loss, grads = jax.value_and_grad(loss_of)(params, x, labels)
        return loss, [p - workload["lr"] * g for p, g in zip(params, grads)]

    state = {"params": [jnp.asarray(w) for w in weights]}
    x, labels = jnp.asarray(x), jnp.asarray(labels)

    def step():
        loss, state["params"] = update(state["params"], x, labels)
        return float(loss)

    return step


def numpy_step(workload, weights):
    """Forward and backward written by hand."""
    x, labels = data(workload)
    params = [w.copy() for w in weights]
    layers = len(params) // 2
    lr = np.float32(workload["lr"])

    def step():
        activations, h = [x], x
        for layer in range(layers):
            h = h @ params[2 * layer] + params[2 * layer + 1]
            if layer < layers - 1:
                h = np.tanh(h) if workload["activation"] == "tanh" else np.maximum(h, 0)
            activations.append(h)
        shifted = h - h.max(axis=1, keepdims=True)
        probabilities = np.exp(shifted)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        loss = -np.mean(np.log(probabilities[rows, labels]))
        upstream = probabilities
        upstream[rows, labels] -= 1
        upstream /= len(labels)
        for layer in reversed(range(layers)):
            below = activations[layer]
            weight_gradient, bias_gradient = below.T @ upstream, upstream.sum(axis=0)
            if layer > 0:
                upstream = upstream @ params[2 * layer].T
                upstream *= (1 - below * below) if workload["activation"] == "tanh" else (below > 0)
            params[2 * layer] -= lr * weight_gradient
            params[2 * layer + 1] -= lr * bias_gradient
        return float(loss)

    return step


PEERS = {
    "graphc": graphc_step,
    "PyTorch eager": torch_step,
    "torch.compile": lambda w, weights: torch_step(w, weights, compiled=True),
    "JAX jit": jax_step,
    "NumPy (hand-written)": numpy_step,
}


def measure(make, workload, steps: int, repeats: int) -> dict:
    weights = initial_weights(workload)
    start = time.perf_counter()
    step = make(workload, weights)
    step()  # includes compilation for the compiling peers
    return report.measure(step, time.perf_counter() - start, steps, repeats, LOSS_STEPS)


def graphc_compile_times(name: str) -> tuple[float, float]:
    """Compile + first step in a fresh process: with an empty kernel cache, then again with it filled."""
    return report.cold_and_warm(
        f"from benchmarks.mlp import graphc_step, initial_weights, WORKLOADS\n"
        f"w = WORKLOADS[{name!r}]; weights = initial_weights(w); begin = time.perf_counter()\n"
        f"graphc_step(w, weights)(); print(time.perf_counter() - begin)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="steps per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peers", nargs="*", default=list(PEERS))
    parser.add_argument("--print-only", action="store_true", help="measure and print; leave docs/benchmarks.md")
    arguments = parser.parse_args()
    gemm = report.gemm_gflops()
    results = {}
    for name, workload in WORKLOADS.items():
        results[name] = {}
        for peer in arguments.peers:
            try:
                results[name][peer] = measure(PEERS[peer], workload, arguments.steps, arguments.repeats)
            except ImportError as error:
                results[name][peer] = {"missing": str(error)}
            print(name, peer, json.dumps(results[name][peer]), flush=True)
        if arguments.print_only:
            continue
        cold, warm = graphc_compile_times(name)
        results[name]["graphc"].update(cold=cold, warm=warm, gflops=flops_per_step(workload) /
                                       (results[name]["graphc"]["ms"] / 1000) / 1e9)
        print(name, "graphc compile", cold, warm, flush=True)
    if not arguments.print_only:
        report.write_section("mlp", report.mlp_table(results, WORKLOADS, gemm, arguments, LOSS_STEPS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
