"""Pretrained word vectors from a text file, as the rows of an embedding table for a vocabulary: GloVe's format
(``word v1 ... vd`` per line) and word2vec's text format (the same after a first line ``count dim``).

The file is read line by line and only the vocabulary's words are kept, so a multi-gigabyte file costs its reading
time, not its size in memory."""

from __future__ import annotations

import numpy as np

from ..errors import GraphcError
from .text import Vocabulary


def read_word_vectors(path: str, vocabulary: Vocabulary, *, seed: int = 0,
                      dtype="float32") -> tuple[np.ndarray, int]:
    """(table, found): a ``(len(vocabulary), dim)`` table whose row for each vocabulary token in the file is its
    vector (an exact match first, else the lowercase word, as GloVe's vocabularies are lowercase); the other rows
    (the end and unknown markers, words the file lacks) are drawn from a normal distribution with the found
    vectors' standard deviation, seeded. ``found`` counts the rows taken from the file."""
    # A token's row takes its exact word's vector; failing that, its lowercase word's (when that is no token itself).
    lowered: dict[str, list[int]] = {}
    for row, token in enumerate(vocabulary.tokens):
        if token.lower() != token and token.lower() not in vocabulary.index:
            lowered.setdefault(token.lower(), []).append(row)
    exact: dict[int, np.ndarray] = {}
    by_lowercase: dict[int, np.ndarray] = {}
    dim = None
    try:
        with open(path, encoding="utf-8") as file:
            for number, line in enumerate(file, 1):
                fields = line.rstrip().split(" ")
                if number == 1 and len(fields) == 2 and all(f.isdigit() for f in fields):
                    continue  # word2vec's header: count and dimension
                if len(fields) < 2:
                    continue  # a blank line
                if dim is None:
                    dim = len(fields) - 1
                elif len(fields) - 1 != dim:
                    raise GraphcError(f"{path}:{number}: {len(fields) - 1} numbers where the first vector had {dim}")
                word = fields[0]
                rows = [(exact, vocabulary.index[word])] if word in vocabulary.index else []
                rows += [(by_lowercase, row) for row in lowered.get(word, ())]
                for into, row in rows:
                    if row not in into:  # the first vector of a word in the file
                        try:
                            into[row] = np.array(fields[1:], dtype=np.float64)
                        except ValueError:
                            raise GraphcError(f"{path}:{number}: the vector of {word!r} is not numbers") from None
    except OSError as error:
        raise GraphcError(f"cannot read the word vectors {path!r}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise GraphcError(f"the word vectors {path!r} are not UTF-8 text") from None
    if dim is None:
        raise GraphcError(f"the word vectors {path!r} hold no vector")
    vectors = {**by_lowercase, **exact}
    found = np.array(list(vectors.values())) if vectors else np.zeros((0, dim))
    spread = float(found.std()) if found.size else 0.1
    table = np.random.default_rng(seed).normal(0.0, spread or 0.1, (len(vocabulary), dim))
    for row, vector in vectors.items():
        table[row] = vector
    return table.astype(dtype), len(vectors)
