"""A language model: a character-level GRU, PyTorch's form (W5 of the benchmarks: vocabulary 65, embedding 64,
hidden 256).

Predicts each next token from the ones before it (teacher forcing); its final state is the next window's initial
state (truncated backpropagation through time).
"""

import graphc.nn


def build(vocabulary=65, embed=64, hidden=256, layers=1, dtype="float32", **options) -> graphc.Model:
    return graphc.nn.language_model("gru", vocabulary, embed, hidden, layers, dtype, **options)
