"""Sequence classification with a text CNN (math.md): is a 64-character snippet Python source or English prose?
Convolutions of widths 3 and 5 over the embedded characters, max-pooled over time (the built-in task
``graphc.data.snippet_task``, as ``lstm_classifier``)."""

import graphc.data
import graphc.nn


def build(vocabulary=100, classes=2, embed=32, channels=64, widths=(3, 5), pooling="max", dtype="float32"):
    return graphc.nn.text_cnn_classifier(vocabulary, classes, embed, channels, widths, pooling, dtype)


def dataset(length=64, count=2000, batch=32):
    return graphc.data.snippet_dataset(length, count, batch)
