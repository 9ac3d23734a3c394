"""Whole models from layers, with the data contract of the training code: a language model, a sequence tagger and
sequence classifiers (recurrent, or a text CNN) over token ids shaped (time, batch)."""

from __future__ import annotations

from ..errors import ShapeError, user_location
from ..model import Model
from ..ops import accuracy, concat, cross_entropy, input, param, transpose
from ..tensor import scope
from .conv import Conv1D, pool_over_time
from .layers import Dense, Embedding
from .recurrent import GRU, LSTM, RNN

RECURRENT = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
CARRY_NAMES = {"rnn": ("h",), "lstm": ("h", "c"), "gru": ("h",)}


def language_model(kind: str = "lstm", vocabulary: int = 65, embed: int = 64, hidden: int = 256, layers: int = 1,
                   dtype="float32", embedding_init="normal", tie_weights: bool = False, **options) -> Model:
    """Embedding -> ``layers`` recurrent layers -> a dense softmax over the vocabulary at every step.
    ``embedding_init`` initializes the embedding's table (``graphc.init.pretrained(vectors)`` for word vectors);
    ``tie_weights``: the output projection is the embedding's table, transposed (Press & Wolf), plus a bias; the
    recurrent output size must then equal ``embed``. Options such as ``dropout=`` go to the recurrent layers.

    Inputs ``tokens`` and ``targets`` (time, batch) int64, and the initial state ``state.<layer>.<h|c>``; outputs
    ``logits`` (time, batch, vocabulary) and the final state ``final.<layer>.<h|c>``; the loss is the mean
    cross-entropy over all predicted tokens (perplexity = exp(loss)).
    """
    tokens = input("tokens", ("time", "batch"), "int64")
    targets = input("targets", ("time", "batch"), "int64")
    embedding = Embedding(vocabulary, embed, name="embedding", init=embedding_init, dtype=dtype)
    recurrent = RECURRENT[kind](embed, hidden, num_layers=layers, name=kind, dtype=dtype, **options)
    names = [(cell.name, CARRY_NAMES[kind]) for cell in recurrent.cells]
    start = [tuple(input(f"state.{cell}.{c}", ("batch", hidden), dtype) for c in carries) for cell, carries in names]
    sequence, finals = recurrent(embedding(tokens), state=start)
    if tie_weights:
        if recurrent.output_size != embed:
            raise ShapeError(f"tie_weights needs the recurrent layers' output size ({recurrent.output_size}) to equal "
                             f"the embedding size ({embed})", user_location())
        with scope("output"):
            logits = sequence @ transpose(embedding.table) + param("output.b", (vocabulary,), "zeros", dtype)
    else:
        logits = Dense(recurrent.output_size, vocabulary, name="output", dtype=dtype)(sequence)
    with scope("loss"):
        loss = cross_entropy(logits, targets)
    outputs = {"logits": logits}
    state = {}
    for (cell, carries), final in zip(names, finals):
        for carry, value in zip(carries, final):
            outputs[f"final.{cell}.{carry}"] = value
            state[f"state.{cell}.{carry}"] = f"final.{cell}.{carry}"
    inputs = {"tokens": tokens, "targets": targets, **{t.name: t for s in start for t in s}}
    config = {"kind": kind, "vocabulary": vocabulary, "embed": embed, "hidden": hidden, "layers": layers, **options}
    return Model(f"{kind}_lm", inputs, outputs, loss, config=config, state=state)


def sequence_tagger(vocabulary: int, classes: int, embed: int = 32, hidden: int = 64, layers: int = 1,
                    kind: str = "lstm", dtype="float32") -> Model:
    """A bidirectional recurrent net labelling every step: inputs ``tokens`` and ``labels`` (time, batch)."""
    tokens = input("tokens", ("time", "batch"), "int64")
    labels = input("labels", ("time", "batch"), "int64")
    recurrent = RECURRENT[kind](embed, hidden, num_layers=layers, bidirectional=True, name=kind, dtype=dtype)
    sequence, _ = recurrent(Embedding(vocabulary, embed, name="embedding", dtype=dtype)(tokens))
    logits = Dense(recurrent.output_size, classes, name="output", dtype=dtype)(sequence)
    loss = cross_entropy(logits, labels)
    return Model(f"{kind}_tagger", {"tokens": tokens, "labels": labels},
                 {"logits": logits, "accuracy": accuracy(logits, labels)}, loss,
                 config={"vocabulary": vocabulary, "classes": classes, "embed": embed, "hidden": hidden,
                         "layers": layers, "kind": kind})


def sequence_classifier(vocabulary: int, classes: int, embed: int = 32, hidden: int = 64, kind: str = "lstm",
                        dtype="float32") -> Model:
    """A recurrent net read to the end, its final hidden state classified: ``tokens`` (time, batch) and ``labels``
    (batch,)."""
    tokens = input("tokens", ("time", "batch"), "int64")
    labels = input("labels", ("batch",), "int64")
    recurrent = RECURRENT[kind](embed, hidden, name=kind, dtype=dtype)
    _, finals = recurrent(Embedding(vocabulary, embed, name="embedding", dtype=dtype)(tokens))
    logits = Dense(hidden, classes, name="output", dtype=dtype)(finals[-1][0])
    loss = cross_entropy(logits, labels)
    return Model(f"{kind}_classifier", {"tokens": tokens, "labels": labels},
                 {"logits": logits, "accuracy": accuracy(logits, labels)}, loss,
                 config={"vocabulary": vocabulary, "classes": classes, "embed": embed, "hidden": hidden,
                         "kind": kind})


def text_cnn_classifier(vocabulary: int, classes: int, embed: int = 32, channels: int = 64, widths=(3, 5),
                        pooling: str = "max", dtype="float32") -> Model:
    """math.md's text CNN: embeddings, one ReLU ``Conv1D`` per kernel width (``conv<width>``), each pooled over
    time, concatenated and classified by a dense layer. Inputs ``tokens`` (time, batch) and ``labels`` (batch,)."""
    tokens = input("tokens", ("time", "batch"), "int64")
    labels = input("labels", ("batch",), "int64")
    embedded = Embedding(vocabulary, embed, name="embedding", dtype=dtype)(tokens)
    pooled = [pool_over_time(Conv1D(embed, channels, width, "relu", name=f"conv{width}", dtype=dtype)(embedded),
                             pooling) for width in widths]
    logits = Dense(channels * len(widths), classes, name="output", dtype=dtype)(concat(pooled, axis=1))
    loss = cross_entropy(logits, labels)
    return Model("text_cnn", {"tokens": tokens, "labels": labels},
                 {"logits": logits, "accuracy": accuracy(logits, labels)}, loss,
                 config={"vocabulary": vocabulary, "classes": classes, "embed": embed, "channels": channels,
                         "widths": tuple(widths), "pooling": pooling})
