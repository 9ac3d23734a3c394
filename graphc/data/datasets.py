"""Ready-made training sets for the model files: a ``Dataset`` bundles the training and validation batches, the
vocabulary when there is one, and the build settings the data decides (the vocabulary's size, the number of
classes). A model file's optional ``dataset(**options)`` returns one; ``graphc train`` uses it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GraphcError
from .batches import Examples, Windows
from .tasks import TOKEN_CLASSES, snippet_task, token_class_task
from .text import Vocabulary, read_documents, split_documents


@dataclass
class Dataset:
    train: Windows | Examples
    validation: Windows | Examples | None = None
    vocabulary: Vocabulary | None = None
    config: dict = field(default_factory=dict)  # settings passed on to the model's build()


def language_dataset(path: str | None = None, seq_len: int = 32, batch: int = 32, level: str = "char",
                     validation_tokens: int = 20000, split: float = 0.1) -> Dataset:
    """A text file (default: the built-in corpus) as next-token windows; ``split`` of its documents held out (of
    its lines, by position, when it has no blank-line breaks), at most ``validation_tokens`` of them used for
    validation."""
    documents = read_documents(path)
    vocabulary = Vocabulary.build(documents, level)
    train, held = split_documents(documents, split)
    held_stream = vocabulary.stream(held)[:validation_tokens]
    validation_batch = max(1, min(batch, (len(held_stream) - 1) // (seq_len + 1)))
    return Dataset(Windows(vocabulary.stream(train), seq_len, batch), Windows(held_stream, seq_len, validation_batch),
                   vocabulary, {"vocabulary": len(vocabulary)})


def token_class_dataset(seq_len: int = 64, batch: int = 16) -> Dataset:
    """The token classes of standard-library source (``data.token_class_task``) in sequences of ``seq_len``
    characters; every tenth sequence held out."""
    vocabulary, ids, labels = token_class_task()
    count = len(ids) // seq_len
    tokens = ids[: count * seq_len].reshape(count, seq_len).T
    classes = labels[: count * seq_len].reshape(count, seq_len).T
    held = np.arange(count) % 10 == 0
    axes = {"tokens": 1, "labels": 1}
    return Dataset(Examples({"tokens": tokens[:, ~held], "labels": classes[:, ~held]}, batch, axes=axes),
                   Examples({"tokens": tokens[:, held], "labels": classes[:, held]}, batch, axes=axes, shuffle=False),
                   vocabulary, {"vocabulary": len(vocabulary), "classes": len(TOKEN_CLASSES)})


def snippet_dataset(length: int = 64, count: int = 2000, batch: int = 32, seed: int = 0) -> Dataset:
    """Prose-or-code snippets (``data.snippet_task``); the last tenth held out."""
    vocabulary, snippets, labels = snippet_task(length, count, seed)
    cut = count - count // 10
    axes = {"tokens": 1, "labels": 0}
    return Dataset(Examples({"tokens": snippets[:, :cut], "labels": labels[:cut]}, batch, axes=axes),
                   Examples({"tokens": snippets[:, cut:], "labels": labels[cut:]}, batch, axes=axes, shuffle=False),
                   vocabulary, {"vocabulary": len(vocabulary)})


def cluster_dataset(features: int, classes: int, count: int = 2000, batch: int = 64, spread: float = 6.0,
                    seed: int = 0, dtype: str = "float32") -> Dataset:
    """Points around ``classes`` random centres in ``features`` dimensions, labelled by their centre (a
    classification task with a known answer); the last tenth held out."""
    if classes < 2 or features < 1 or count < 20:
        raise GraphcError("a cluster dataset needs at least 2 classes, 1 feature and 20 points")
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.0, (classes, features))
    labels = rng.integers(0, classes, count)
    points = (centres[labels] + rng.normal(0, spread, (count, features))).astype(dtype)
    cut = count - count // 10
    return Dataset(Examples({"x": points[:cut], "labels": labels[:cut]}, batch),
                   Examples({"x": points[cut:], "labels": labels[cut:]}, batch, shuffle=False))
