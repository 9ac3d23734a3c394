"""A language model: a character-level GRU, PyTorch's form (W5 of the benchmarks: vocabulary 65, embedding 64,
hidden 256).

Predicts each next token from the ones before it (teacher forcing); its final state is the next window's initial
state (truncated backpropagation through time).
"""

import graphc.data
import graphc.nn


def build(vocabulary=65, embed=64, hidden=256, layers=1, dtype="float32", **options) -> graphc.Model:
    return graphc.nn.language_model("gru", vocabulary, embed, hidden, layers, dtype, **options)


def dataset(path=None, seq_len=32, batch=32, level="char", split=0.1):
    """The built-in corpus (or the text file ``path``) as (seq_len, batch) next-token windows, ``split`` of it held
    out for validation."""
    return graphc.data.language_dataset(path, seq_len, batch, level, split=split)
