"""Built-in labelled tasks with real labels, from text that ships with Python:

- **token classes** (sequence labelling): each character of standard-library source files labelled with the class
  of the token that Python's ``tokenize`` puts it in (name, keyword, number, string, comment, operator, newline)
  or ``space``;
- **code or prose** (sequence classification): fixed-length snippets of standard-library source and of CPython's
  English documentation (``pydoc_data``), labelled by where they come from.
"""

from __future__ import annotations

import io
import keyword
import sysconfig
import tokenize
from pathlib import Path

import numpy as np

from .text import Vocabulary, builtin_documents

SOURCES = ("bisect.py", "heapq.py", "textwrap.py", "shlex.py", "fractions.py", "calendar.py", "string.py",
           "colorsys.py", "json/encoder.py", "json/decoder.py", "glob.py", "fnmatch.py")
TOKEN_CLASSES = ("space", "name", "keyword", "number", "string", "comment", "operator", "newline")
SNIPPET_CLASSES = ("prose", "code")


def source_files() -> list[str]:
    """The texts of ``SOURCES`` from this Python's standard library."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return [(root / name).read_text(encoding="utf-8") for name in SOURCES]


def token_classes(source: str) -> np.ndarray:
    """The class id (index into ``TOKEN_CLASSES``) of every character of ``source``."""
    labels = np.zeros(len(source), dtype=np.int64)
    starts = np.cumsum([0] + [len(line) for line in source.splitlines(keepends=True)])
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        kind = _class(token)
        if kind is None:
            continue
        (row, col), (end_row, end_col) = token.start, token.end
        labels[starts[row - 1] + col:starts[end_row - 1] + end_col] = TOKEN_CLASSES.index(kind)
    return labels


def _class(token) -> str | None:
    kind = tokenize.tok_name[token.type]
    if kind == "NAME":
        return "keyword" if keyword.iskeyword(token.string) else "name"
    if kind in ("NEWLINE", "NL"):
        return "newline"
    return {"NUMBER": "number", "STRING": "string", "COMMENT": "comment", "OP": "operator"}.get(kind)


def token_class_task(vocabulary: Vocabulary | None = None) -> tuple[Vocabulary, np.ndarray, np.ndarray]:
    """(character vocabulary, character ids, class ids) over all ``SOURCES``, concatenated."""
    texts = source_files()
    vocabulary = vocabulary or Vocabulary.build(texts, "char")
    ids = np.concatenate([vocabulary.encode(t) for t in texts])
    labels = np.concatenate([token_classes(t) for t in texts])
    return vocabulary, ids, labels


def snippet_task(length: int = 64, count: int = 2000, seed: int = 0, vocabulary: Vocabulary | None = None):
    """(vocabulary, snippets (length, count) of character ids, labels (count,)): half prose, half code, shuffled."""
    rng = np.random.default_rng(seed)
    prose = "\n".join(builtin_documents())
    code = "\n".join(source_files())
    vocabulary = vocabulary or Vocabulary.build([prose, code], "char")
    texts, labels = [], []
    for label, text in enumerate((prose, code)):
        for start in rng.integers(0, len(text) - length, size=count // 2):
            texts.append(vocabulary.encode(text[start:start + length]))
            labels.append(label)
    order = rng.permutation(len(texts))
    snippets = np.stack([texts[i] for i in order], axis=1)
    return vocabulary, np.ascontiguousarray(snippets), np.array(labels, dtype=np.int64)[order]
