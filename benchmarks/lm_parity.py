"""graphc's LSTM language model and PyTorch's, trained the same way, reach the same validation perplexity.

    python benchmarks/lm_parity.py              # writes the "lm-parity" section of docs/benchmarks.md
    python benchmarks/lm_parity.py --steps 100  # quicker

Same data (the built-in corpus, character vocabulary, seeded document split), same initial weights (graphc's,
mapped to nn.LSTM's layout with the second bias at zero and frozen), plain SGD with the same learning rate, the same
(T, B) windows with the state carried between them (truncated BPTT), the same number of steps; then the perplexity
of both on the held-out documents. The target is agreement within 3%.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import benchmarks.threads  # noqa: E402, F401 - sets the thread variables before NumPy loads

# isort: split

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import graphc  # noqa: E402
from benchmarks import report  # noqa: E402
from graphc import data, nn  # noqa: E402
from graphc.train import language  # noqa: E402

CONFIG = {"embed": 32, "hidden": 128, "seq_len": 32, "batch": 32, "lr": 1.0, "held_out_tokens": 40000}


def corpus():
    documents = data.builtin_documents()
    vocabulary = data.Vocabulary.build(documents)
    train, held = data.split_documents(documents, 0.1, seed=0)
    return vocabulary, vocabulary.stream(train), vocabulary.stream(held)[:CONFIG["held_out_tokens"]]


def run_graphc(vocabulary, train, held, steps):
    model = nn.language_model("lstm", len(vocabulary), CONFIG["embed"], CONFIG["hidden"])
    params = graphc.init_params(model.params, seed=0)
    initial = {k: v.copy() for k, v in params.items()}
    start = time.perf_counter()
    _, losses = language.train(model, train, steps=steps, seq_len=CONFIG["seq_len"], batch=CONFIG["batch"],
                               lr=CONFIG["lr"], params=params)
    seconds = time.perf_counter() - start
    return initial, losses, language.perplexity(model, params, held, seq_len=CONFIG["seq_len"],
                                                batch=CONFIG["batch"]), seconds


def run_torch(vocabulary, train, held, steps, weights):
    import torch

    torch.set_num_threads(2)
    size, embed, hidden = len(vocabulary), CONFIG["embed"], CONFIG["hidden"]
    embedding, lstm, output = torch.nn.Embedding(size, embed), torch.nn.LSTM(embed, hidden), torch.nn.Linear(hidden,
                                                                                                             size)
    with torch.no_grad():
        embedding.weight.copy_(torch.tensor(weights["embedding.table"]))
        lstm.weight_ih_l0.copy_(torch.tensor(weights["lstm.l0.W"].T))
        lstm.weight_hh_l0.copy_(torch.tensor(weights["lstm.l0.U"].T))
        lstm.bias_ih_l0.copy_(torch.tensor(weights["lstm.l0.b"]))
        lstm.bias_hh_l0.zero_()
        output.weight.copy_(torch.tensor(weights["output.W"].T))
        output.bias.copy_(torch.tensor(weights["output.b"]))
    lstm.bias_hh_l0.requires_grad_(False)  # graphc has one bias per gate
    params = [p for module in (embedding, lstm, output) for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=CONFIG["lr"])

    def loss_of(tokens, targets, state):
        sequence, state = lstm(embedding(torch.tensor(tokens)), state)
        logits = output(sequence)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, size), torch.tensor(targets).reshape(-1))
        return loss, tuple(s.detach() for s in state)

    def zeros():
        return tuple(torch.zeros(1, CONFIG["batch"], hidden) for _ in range(2))

    losses, state, source = [], zeros(), data.windows(train, CONFIG["seq_len"], CONFIG["batch"])
    start = time.perf_counter()
    while len(losses) < steps:  # the same cycling as graphc.train.language.train
        try:
            tokens, targets = next(source)
        except StopIteration:
            source, state = data.windows(train, CONFIG["seq_len"], CONFIG["batch"]), zeros()
            continue
        loss, state = loss_of(tokens, targets, state)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    seconds = time.perf_counter() - start
    total, count, state = 0.0, 0, zeros()
    with torch.no_grad():
        for tokens, targets in data.windows(held, CONFIG["seq_len"], CONFIG["batch"]):
            loss, state = loss_of(tokens, targets, state)
            total, count = total + float(loss) * tokens.size, count + tokens.size
    return losses, math.exp(total / count), seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--print-only", action="store_true")
    arguments = parser.parse_args()
    vocabulary, train, held = corpus()
    weights, ours, our_perplexity, our_seconds = run_graphc(vocabulary, train, held, arguments.steps)
    theirs, their_perplexity, their_seconds = run_torch(vocabulary, train, held, arguments.steps, weights)
    difference = abs(our_perplexity - their_perplexity) / their_perplexity
    lines = ["", f"Command: `python benchmarks/lm_parity.py --steps {arguments.steps}`. LSTM language model, "
             f"vocabulary {len(vocabulary)} characters, embedding {CONFIG['embed']}, hidden {CONFIG['hidden']}, "
             f"windows of {CONFIG['seq_len']} × {CONFIG['batch']} with the state carried, SGD lr {CONFIG['lr']}, "
             f"{arguments.steps} steps from the same initial weights; validation on the first "
             f"{len(held)} tokens of the held-out documents.", "",
             "| | graphc | PyTorch eager |", "|---|---|---|",
             f"| training loss, first step | {ours[0]:.4f} | {theirs[0]:.4f} |",
             f"| training loss, mean of the last 20 steps | {np.mean(ours[-20:]):.4f} | {np.mean(theirs[-20:]):.4f} |",
             f"| validation perplexity | {our_perplexity:.3f} | {their_perplexity:.3f} |",
             f"| training time (s, graphc's includes compiling) | {our_seconds:.1f} | {their_seconds:.1f} |", "",
             f"Validation perplexities differ by {difference:.2%} (target: within 3%).", ""]
    print("\n".join(lines))
    if not arguments.print_only:
        report.write_section("lm-parity", lines)
    return 0 if difference <= 0.03 else 1


if __name__ == "__main__":
    sys.exit(main())
