"""W3-W6 of workloads.md: one language-model training step (forward, backward through time, SGD lr 1.0) of a
character RNN, LSTM and GRU, graphc against PyTorch eager (nn.RNN/LSTM/GRU) and JAX (jit + lax.scan).

    python benchmarks/recurrent.py               # every workload and peer, the W4 compile-time sweep and memory
    python benchmarks/recurrent.py --print-only  # measure and print; leave docs/benchmarks.md alone

Every peer starts from graphc's initial weights (mapped to PyTorch's layout) and trains on the same window of the
built-in corpus. All use 2 threads. Peers are installed by `make bench`, never required by graphc.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import benchmarks.threads  # noqa: E402, F401 - sets the thread variables before NumPy loads

# isort: split

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import graphc  # noqa: E402
from benchmarks import report  # noqa: E402
from graphc import data, nn  # noqa: E402
from graphc.train import language  # noqa: E402

WORKLOADS = {
    "W3": {"kind": "rnn", "vocabulary": 65, "embed": 32, "hidden": 128, "steps": 64, "batch": 32},
    "W4": {"kind": "lstm", "vocabulary": 65, "embed": 64, "hidden": 256, "steps": 64, "batch": 32},
    "W5": {"kind": "gru", "vocabulary": 65, "embed": 64, "hidden": 256, "steps": 64, "batch": 32},
    "W6": {"kind": "lstm", "vocabulary": 65, "embed": 16, "hidden": 32, "steps": 32, "batch": 8},
}
LR = 1.0
LOSS_STEPS = 10
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def window(workload):
    """The first (T, B) window of the built-in corpus, as ids of its 65-token vocabulary."""
    documents = data.builtin_documents()
    vocabulary = data.Vocabulary.build(documents, max_size=workload["vocabulary"])
    return next(data.windows(vocabulary.stream(documents), workload["steps"], workload["batch"]))


def build(workload):
    return nn.language_model(workload["kind"], workload["vocabulary"], workload["embed"], workload["hidden"])


def initial_weights(workload) -> dict:
    model = build(workload)
    return graphc.init_params(model.params, seed=0)


def flops_per_step(workload) -> float:
    """Matrix-product FLOPs: forward, and twice that backward (input and weight gradients)."""
    t, b, e, h, v = (workload[k] for k in ("steps", "batch", "embed", "hidden", "vocabulary"))
    gates = GATES[workload["kind"]]
    forward = 2 * t * b * (e * gates * h + h * gates * h + h * v)
    return 3.0 * forward


# --- peers: each returns step() -> loss (before the update) ---------------------------------------------------------
def graphc_training(workload, weights, device="cpu"):
    """graphc's compiled training step and the feeds it trains on."""
    model = build(workload)
    tokens, targets = window(workload)
    feeds = {"tokens": tokens, "targets": targets, **{k: v.copy() for k, v in weights.items()},
             **language.zero_state(model, workload["batch"])}
    return graphc.compile_step(model.loss, model.params, LR, backend=device), feeds


def graphc_step(workload, weights, device="cpu"):
    step, feeds = graphc_training(workload, weights, device)
    return lambda: float(step(feeds))


def torch_step(workload, weights, device="cpu"):
    """On CUDA, PyTorch's nn.LSTM/GRU/RNN run cuDNN's fused recurrent kernels."""
    import torch

    torch.set_num_threads(2)
    kind, hidden = workload["kind"], workload["hidden"]
    recurrent = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](workload["embed"], hidden)
    embedding = torch.nn.Embedding(workload["vocabulary"], workload["embed"])
    output = torch.nn.Linear(hidden, workload["vocabulary"])
    with torch.no_grad():
        embedding.weight.copy_(torch.tensor(weights["embedding.table"]))
        output.weight.copy_(torch.tensor(weights["output.W"].T))
        output.bias.copy_(torch.tensor(weights["output.b"]))
        recurrent.weight_ih_l0.copy_(torch.tensor(weights[f"{kind}.l0.W"].T))
        recurrent.weight_hh_l0.copy_(torch.tensor(weights[f"{kind}.l0.U"].T))
        recurrent.bias_ih_l0.copy_(torch.tensor(weights[f"{kind}.l0.b"]))
        hidden_bias = weights.get(f"{kind}.l0.b_hidden")
        recurrent.bias_hh_l0.copy_(torch.tensor(hidden_bias) if hidden_bias is not None else
                                   torch.zeros_like(recurrent.bias_hh_l0))
    if kind != "gru":  # graphc's RNN and LSTM have one bias per block: PyTorch's second one stays zero
        recurrent.bias_hh_l0.requires_grad_(False)
    for module in (recurrent, embedding, output):
        module.to(device)
    params = [p for p in (*recurrent.parameters(), *embedding.parameters(), *output.parameters()) if p.requires_grad]
    tokens, targets = (torch.tensor(a, device=device) for a in window(workload))

    def step():
        sequence, _ = recurrent(embedding(tokens))
        logits = output(sequence)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None
        return float(loss.detach())

    return step


def jax_step(workload, weights):
    import jax
    import jax.numpy as jnp

    kind, m = workload["kind"], workload["hidden"]
    names = ["embedding.table", f"{kind}.l0.W", f"{kind}.l0.U", f"{kind}.l0.b", "output.W", "output.b"]
    if kind == "gru":
        names.append(f"{kind}.l0.b_hidden")

    def cell(params, h, x):
        W, U, b = params[1], params[2], params[3]
        if kind == "rnn":
            h = jnp.tanh(x @ W + h @ U + b)
            return h, h
        if kind == "gru":
            gx, gh = x @ W + b, h @ U + params[6]
            r = jax.nn.sigmoid(gx[:, :m] + gh[:, :m])
            z = jax.nn.sigmoid(gx[:, m:2 * m] + gh[:, m:2 * m])
            n = jnp.tanh(gx[:, 2 * m:] + r * gh[:, 2 * m:])
            h = (1 - z) * n + z * h
            return h, h
        h, c = h
        g = x @ W + h @ U + b
        i, f, o = jax.nn.sigmoid(g[:, :m]), jax.nn.sigmoid(g[:, m:2 * m]), jax.nn.sigmoid(g[:, 3 * m:])
        c = f * c + i * jnp.tanh(g[:, 2 * m:3 * m])
        h = o * jnp.tanh(c)
        return (h, c), h

    def loss_of(params, tokens, targets):
        zeros = jnp.zeros((tokens.shape[1], m), jnp.float32)
        start = (zeros, zeros) if kind == "lstm" else zeros
        _, sequence = jax.lax.scan(lambda h, x: cell(params, h, x), start, params[0][tokens])
        logits = sequence @ params[4] + params[5]
        log_probabilities = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(log_probabilities, targets[..., None], axis=-1))

    @jax.jit
    def update(params, tokens, targets):
        loss, grads = jax.value_and_grad(loss_of)(params, tokens, targets)
        return loss, [p - LR * g for p, g in zip(params, grads)]

    state = {"params": [jnp.asarray(weights[n]) for n in names]}
    tokens, targets = (jnp.asarray(a) for a in window(workload))

    def step():
        loss, state["params"] = update(state["params"], tokens, targets)
        return float(loss)

    return step


def graphc_unsplit_step(workload, weights):
    """graphc with each loop on one thread, its products split between the threads instead (as before loops were
    split by rows): ``GRAPHC_SPLIT_LOOPS=0`` while the first call generates the code (the setting is read then), and
    the step as any other after."""
    step = graphc_step(workload, weights)
    calls = []

    def call():
        if calls:
            return step()
        calls.append(1)
        previous = os.environ.get("GRAPHC_SPLIT_LOOPS")
        os.environ["GRAPHC_SPLIT_LOOPS"] = "0"
        try:
            return step()
        finally:
            if previous is None:
                del os.environ["GRAPHC_SPLIT_LOOPS"]
            else:
                os.environ["GRAPHC_SPLIT_LOOPS"] = previous

    return call


UNSPLIT = "graphc, loops not split by rows (GRAPHC_SPLIT_LOOPS=0)"
PEERS = {"graphc": graphc_step, UNSPLIT: graphc_unsplit_step, "PyTorch eager": torch_step,
         "JAX jit + lax.scan": jax_step}


def measure(make, workload, steps: int, repeats: int) -> dict:
    weights = initial_weights(workload)
    start = time.perf_counter()
    step = make(workload, weights)
    step()  # includes compilation for the compiling peers
    return report.measure(step, time.perf_counter() - start, steps, repeats, LOSS_STEPS)


def compile_seconds(workload: dict) -> tuple[float, float]:
    """compile_step + first step in a new process: with empty caches, then again with them filled."""
    code = (f"from benchmarks.recurrent import graphc_step, initial_weights\n"
            f"w = {workload!r}; weights = initial_weights(w); begin = time.perf_counter()\n"
            f"graphc_step(w, weights)(); print(time.perf_counter() - begin)")
    return report.cold_and_warm(code)


def peak_memory_mib(peer: str, workload: dict) -> float:
    """The peak resident memory (VmHWM: ru_maxrss would include the parent's from before exec) of a process that
    builds the peer and runs 10 training steps."""
    code = (f"from benchmarks.recurrent import PEERS, initial_weights\n"
            f"w = {workload!r}; step = PEERS[{peer!r}](w, initial_weights(w))\n"
            f"for _ in range(10): step()\n"
            f"print([int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    return float(report.in_fresh_process(code))


def table(results, gemm, arguments, sweep, memory) -> list[str]:
    lines = ["", *report.environment(), f"Measured float32 GEMM rate (NumPy, 1024³): {gemm:.1f} GFLOP/s.",
             f"Command: `python benchmarks/recurrent.py --steps {arguments.steps} --repeats {arguments.repeats}`; "
             f"ms/step is the median of {arguments.repeats} repeats of {arguments.steps} steps after {LOSS_STEPS} "
             "warm-up steps; one step is forward, backward through all T steps and an SGD update (lr 1.0).", ""]
    for name, workload in WORKLOADS.items():
        row = results[name]
        lines += [f"### {name}: {workload['kind'].upper()} language model, vocabulary {workload['vocabulary']}, "
                  f"embedding {workload['embed']}, hidden {workload['hidden']}, T {workload['steps']}, "
                  f"batch {workload['batch']}", "", *report.peer_rows(row, LOSS_STEPS)]
        ours = row["graphc"]
        gflops = flops_per_step(workload) / (ours["ms"] / 1000) / 1e9
        lines += ["", f"graphc: {gflops:.1f} GFLOP/s in matrix products ({gflops / gemm:.0%} of the GEMM rate)"
                      + (f"; compile + first step in a new process {ours['cold']:.2f} s cold, {ours['warm']:.2f} s "
                         "warm." if "cold" in ours else ".")]
        unsplit = row.get(UNSPLIT, {})
        if "ms" in unsplit:
            gflops = flops_per_step(workload) / (unsplit["ms"] / 1000) / 1e9
            lines += ["", f"graphc, loops not split by rows: {gflops:.1f} GFLOP/s ({gflops / gemm:.0%} of the GEMM "
                          "rate)."]
        lines += [""]
    if sweep:
        lines += ["### W4 compile time against sequence length", "",
                  "compile_step + first step in a new process with empty caches (the loop is never unrolled):", "",
                  "| T | cold (s) | warm (s) |", "|---|---|---|"]
        lines += [f"| {t} | {cold:.2f} | {warm:.2f} |" for t, (cold, warm) in sweep.items()] + [""]
    if memory:
        lines += ["### W4 peak memory", "", "Peak resident memory of a process that builds the peer and trains "
                  "10 steps (VmHWM, libraries included):", "", "| peer | MiB |", "|---|---|"]
        lines += [f"| {peer} | {mib:.0f} |" for peer, mib in memory.items()] + [""]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--peers", nargs="*", default=list(PEERS))
    parser.add_argument("--print-only", action="store_true", help="measure and print; leave docs/benchmarks.md")
    arguments = parser.parse_args()
    gemm = report.gemm_gflops()
    results, sweep, memory = {}, {}, {}
    for name in arguments.workloads:
        workload = WORKLOADS[name]
        results[name] = {}
        for peer in arguments.peers:
            try:
                results[name][peer] = measure(PEERS[peer], workload, arguments.steps, arguments.repeats)
            except ImportError as error:
                results[name][peer] = {"missing": str(error)}
            print(name, peer, json.dumps(results[name][peer]), flush=True)
        if not arguments.print_only:
            cold, warm = compile_seconds(workload)
            results[name]["graphc"].update(cold=cold, warm=warm)
            print(name, "graphc compile", cold, warm, flush=True)
    if not arguments.print_only:
        for length in (16, 64, 256, 1024):
            sweep[length] = compile_seconds({**WORKLOADS["W4"], "steps": length})
            print("W4 compile at T", length, sweep[length], flush=True)
        for peer in arguments.peers:
            if "missing" in results.get("W4", {}).get(peer, {}):
                continue  # not installed: its row says so
            memory[peer] = peak_memory_mib(peer, WORKLOADS["W4"])
            print("W4 peak memory", peer, memory[peer], flush=True)
        report.write_section("recurrent", table(results, gemm, arguments, sweep, memory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
