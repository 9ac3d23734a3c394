"""A language model: a character-level Elman RNN (tanh): W3 of the benchmarks (vocabulary 65, embedding 32, hidden 128).

Predicts each next token from the ones before it (teacher forcing); its final state is the next window's initial
state (truncated backpropagation through time).
"""

import graphc.data
import graphc.nn


def build(vocabulary=65, embed=32, hidden=128, layers=1, dtype="float32", **options) -> graphc.Model:
    return graphc.nn.language_model("rnn", vocabulary, embed, hidden, layers, dtype, **options)


def dataset(path=None, seq_len=32, batch=32, level="char", split=0.1):
    """The built-in corpus (or the text file ``path``) as (seq_len, batch) next-token windows, ``split`` of it held
    out for validation."""
    return graphc.data.language_dataset(path, seq_len, batch, level, split=split)
