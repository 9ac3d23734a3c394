"""Sequence classification from an LSTM's final state: is a 64-character snippet Python source or English prose?
(the built-in task ``graphc.data.snippet_task``)."""

import graphc.data
import graphc.nn


def build(vocabulary=100, classes=2, embed=32, hidden=64, dtype="float32") -> graphc.Model:
    return graphc.nn.sequence_classifier(vocabulary, classes, embed, hidden, "lstm", dtype)


def dataset(length=64, count=2000, batch=32):
    return graphc.data.snippet_dataset(length, count, batch)
