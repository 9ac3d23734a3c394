"""A character-level language model on CPython's own documentation, end to end.

    python examples/language_model.py [--kind lstm] [--steps 300] [--corpus FILE]

Builds the vocabulary, holds out 10% of the documents, trains with truncated backpropagation through time (the
state carried from window to window), prints the held-out perplexity before and after, and generates text from a
prime with temperature and top-k sampling.
"""

import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from graphc import data, nn  # noqa: E402
from graphc.train import language  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("rnn", "lstm", "gru"), default="lstm")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--corpus", help="a UTF-8 text file (default: the built-in corpus)")
    parser.add_argument("--prime", default="The ")
    parser.add_argument("--lr", type=float, help="SGD learning rate (default: 1.0; 0.1 for a vanilla RNN, whose "
                        "gradients explode at 1.0 without clipping)")
    arguments = parser.parse_args()
    documents = data.read_documents(arguments.corpus)
    vocabulary = data.Vocabulary.build(documents)
    train, held = data.split_documents(documents)
    train_stream, held_stream = vocabulary.stream(train), vocabulary.stream(held)[:20000]
    model = nn.language_model(arguments.kind, len(vocabulary), embed=32, hidden=128)
    print(f"{arguments.kind} language model, {model.parameter_count()} parameters, vocabulary {len(vocabulary)}, "
          f"{len(train_stream)} training tokens")

    def progress(step, loss):
        if step % 50 == 0:
            print(f"  step {step}: loss {loss:.3f}", flush=True)

    lr = arguments.lr or (0.1 if arguments.kind == "rnn" else 1.0)
    params, _ = language.train(model, train_stream, steps=arguments.steps, seq_len=32, batch=32, lr=lr,
                               callback=progress)
    print(f"held-out perplexity: {language.perplexity(model, params, held_stream, seq_len=32, batch=32):.2f} "
          f"(a uniform guess: {len(vocabulary)})")
    sample = language.generate(model, params, vocabulary, arguments.prime, max_tokens=200, temperature=0.8,
                               top_k=10, seed=0)
    print(f"sample: {arguments.prime}{sample}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
