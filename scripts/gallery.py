"""Regenerate the pictures of docs/gallery.md (docs/gallery/*.svg).

    python scripts/gallery.py [OUTPUT_FOLDER]
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import graphc  # noqa: E402
from graphc import cli, nn  # noqa: E402
from graphc.models import lstm_step, mlp, xor  # noqa: E402


def textbook():
    a, b, c = (graphc.input(n, (), "float64") for n in "abc")
    e = graphc.name(a + 2.0 * b, "e")
    return graphc.name(c * e, "L"), {"a": 3.0, "b": 1.0, "c": -2.0}


def pictures():
    """(file name, render arguments) for every picture of the gallery."""
    loss, feeds = textbook()
    network = xor.build()
    hand_set = {"W": np.ones((2, 2), np.float32), "c": np.array([0, -1], np.float32),
                "w": np.array([1, -2], np.float32), "b": np.array(0, np.float32),
                "x": np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32),
                "target": np.array([0, 1, 1, 0], np.float32)}
    classifier = mlp.build(sizes=(4, 8, 3))
    cell = lstm_step.build()
    recurrent = nn.language_model("rnn", 10, 3, 4)
    return [
        ("textbook.svg", dict(outputs=loss, backward=True, feeds=feeds, title="L = c·(a + 2b) at a=3, b=1, c=−2")),
        ("xor.svg", dict(outputs=network, feeds=hand_set, title="XOR with hand-set weights (values for 4 inputs)")),
        ("xor_backward.svg", dict(outputs=network, backward=True, title="XOR: forward and backward")),
        ("mlp_backward.svg", dict(outputs=classifier, backward=True, title="MLP 4-8-3 with its backward pass")),
        ("lstm_raw.svg", dict(outputs=cell, title="One LSTM step, as written")),
        ("lstm_optimized.svg", dict(outputs=cell, stage="optimized", title="One LSTM step, optimized")),
        ("lstm_optimized_backward.svg", dict(outputs=cell, stage="optimized", backward=True,
                                             title="One LSTM step with its gradients, optimized")),
        ("rnn_bptt.svg", dict(outputs=recurrent, backward=True, unroll=3, wrt=recurrent.params,
                              title="Backpropagation through time: a vanilla RNN language model, 3 steps")),
    ]


def commands():
    """(file name, graphc command line) for the pictures drawn through the CLI."""
    return [("xor_values.svg", ["render", "xor", "--values", "--backward"])]


def main() -> int:
    folder = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "gallery"
    for name, arguments in pictures():
        graphc.render(arguments.pop("outputs"), path=folder / name, **arguments)
        print(f"wrote {folder / name}")
    for name, arguments in commands():
        if cli.main([*arguments, "-o", str(folder / name)]):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
