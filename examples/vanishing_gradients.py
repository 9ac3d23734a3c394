"""The vanishing-gradient picture: how far back ‖∂L_T/∂h_t‖ reaches in a trained vanilla RNN and an LSTM.

    python examples/vanishing_gradients.py [--steps 600] [--output vanishing_gradients.png]

Both language models are trained the same way on the same text (the built-in corpus), then the gradient of the
last prediction's loss with respect to the recurrent state after each earlier step is measured on held-out windows
and drawn against the distance, on a log scale.
"""

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from graphc import data, nn, optim  # noqa: E402
from graphc.train import Trainer, diagnostics, plots  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600, help="training steps per model (default 600)")
    parser.add_argument("--length", type=int, default=40, help="window length T of the measurement (default 40)")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--output", default="vanishing_gradients.png")
    arguments = parser.parse_args()
    documents = data.builtin_documents()
    vocabulary = data.Vocabulary.build(documents)
    train, held = data.split_documents(documents)
    windows = data.Windows(vocabulary.stream(train), seq_len=32, batch=32)
    tokens, targets = next(data.windows(vocabulary.stream(held), arguments.length, 8))
    curves = {}
    for kind in ("rnn", "lstm"):
        model = nn.language_model(kind, len(vocabulary), embed=32, hidden=arguments.hidden)
        trainer = Trainer(model, optim.Adam(0.003, clip_norm=1.0), progress=False)
        history = trainer.fit(windows, epochs=arguments.steps, max_steps=arguments.steps)
        curves[kind] = diagnostics.hidden_gradient_norms(model, trainer.params, tokens, targets)
        far, near = curves[kind][0], curves[kind][-1]
        print(f"{kind}: loss {np.mean(history.losses[-20:]):.3f}; ‖∂L_T/∂h_t‖ {near:.2e} one step back, "
              f"{far:.2e} {arguments.length} steps back ({near / far:.1e} times smaller)")
    print(f"wrote {plots.vanishing_gradients(curves, arguments.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
