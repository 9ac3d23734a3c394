"""Sequence labelling with a bidirectional LSTM: for each character of Python source, the class of the token that
``tokenize`` puts it in (the built-in task ``graphc.data.token_class_task``: 8 classes)."""

import graphc.data
import graphc.nn


def build(vocabulary=100, classes=8, embed=32, hidden=64, layers=1, dtype="float32") -> graphc.Model:
    return graphc.nn.sequence_tagger(vocabulary, classes, embed, hidden, layers, "lstm", dtype)


def dataset(seq_len=64, batch=16):
    return graphc.data.token_class_dataset(seq_len, batch)
