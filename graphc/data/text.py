"""Text corpora and vocabularies.

The built-in corpus needs no download: the English documentation that ships inside CPython
(``pydoc_data.topics``, the text behind ``help('if')`` and friends), one document per topic, in a fixed order.
Any UTF-8 text file can be used instead (documents separated by blank lines).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..errors import GraphcError

END = "<end>"  # closes every document: generation stops when it is sampled
UNKNOWN = "<unk>"
WORD = re.compile(r"\w+|[^\w\s]")


def builtin_documents() -> list[str]:
    """CPython's own documentation topics, sorted by topic name."""
    from pydoc_data.topics import topics

    return [topics[name].strip() for name in sorted(topics)]


def read_documents(path: str | None = None) -> list[str]:
    """The documents of a text file (separated by blank lines), or the built-in corpus when ``path`` is None."""
    if path is None:
        return builtin_documents()
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as error:
        raise GraphcError(f"cannot read the corpus {path!r}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise GraphcError(f"the corpus {path!r} is not UTF-8 text") from None
    documents = [d.strip() for d in re.split(r"\n\s*\n", text) if d.strip()]
    if not documents:
        raise GraphcError(f"the corpus {path!r} is empty")
    return documents


@dataclass
class Vocabulary:
    """Tokens <-> ids. ``level`` "char" splits text into characters, "word" into words and punctuation."""

    tokens: list[str]
    level: str = "char"
    index: dict[str, int] = field(init=False)

    def __post_init__(self):
        if self.level not in ("char", "word"):
            raise GraphcError(f"vocabulary level must be 'char' or 'word', not {self.level!r}")
        self.index = {token: i for i, token in enumerate(self.tokens)}
        # Characters as sorted code points beside their ids: encoding a text is then one search in NumPy, not a
        # dictionary lookup per character (the built-in corpus's 460 000 characters took 0.13 s that way).
        characters = sorted((ord(t), i) for t, i in self.index.items() if len(t) == 1)
        self._code_points = np.array([c for c, _ in characters], dtype=np.uint32)
        self._character_ids = np.array([i for _, i in characters], dtype=np.int64)

    @classmethod
    def build(cls, documents: list[str], level: str = "char", max_size: int | None = None) -> Vocabulary:
        """The tokens of ``documents``, most frequent first (ties by token), plus the end and unknown markers."""
        counts = Counter()
        for document in documents:
            counts.update(document if level == "char" else split(document, level))  # a string counts its characters
        ranked = sorted(counts, key=lambda t: (-counts[t], t))
        if max_size is not None:
            ranked = ranked[:max(max_size - 2, 1)]
        return cls([END, UNKNOWN] + ranked, level)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> np.ndarray:
        unknown = self.index[UNKNOWN]
        if self.level == "word":
            return np.array([self.index.get(t, unknown) for t in WORD.findall(text)], dtype=np.int64)
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        if not len(self._code_points):
            return np.full(len(codes), unknown, dtype=np.int64)
        where = np.minimum(np.searchsorted(self._code_points, codes), len(self._code_points) - 1)
        return np.where(self._code_points[where] == codes, self._character_ids[where], unknown)

    def unknown(self, text: str) -> list[str]:
        """The distinct tokens of ``text`` that the vocabulary lacks (``encode`` maps them to the unknown marker),
        in order of first appearance."""
        return list(dict.fromkeys(t for t in split(text, self.level) if t not in self.index))

    def decode(self, ids) -> str:
        joiner = "" if self.level == "char" else " "
        return joiner.join(self.tokens[int(i)] for i in ids)

    def stream(self, documents: list[str]) -> np.ndarray:
        """All documents as one id stream, each followed by the end marker."""
        end = np.array([self.index[END]], dtype=np.int64)
        return np.concatenate([np.concatenate([self.encode(d), end]) for d in documents])

    def to_dict(self) -> dict:
        return {"tokens": self.tokens, "level": self.level}


def split(text: str, level: str) -> list[str]:
    return list(text) if level == "char" else WORD.findall(text)


def split_documents(documents: list[str], validation: float = 0.1, seed: int = 0) -> tuple[list[str], list[str]]:
    """A seeded split into training and held-out documents (at least one of each), ``validation`` of them held
    out. A text with no document breaks (one document) is split by position: its last ``validation`` of lines."""
    if not 0 < validation < 1:
        raise GraphcError(f"the validation fraction must be between 0 and 1, not {validation}")
    if len(documents) == 1:
        return _split_by_position(documents[0], validation)
    order = np.random.default_rng(seed).permutation(len(documents))
    held = max(1, int(round(len(documents) * validation)))
    return [documents[i] for i in sorted(order[held:])], [documents[i] for i in sorted(order[:held])]


def _split_by_position(text: str, validation: float) -> tuple[list[str], list[str]]:
    """The last ``validation`` of ``text`` held out, cut at a line break (at least one line each side)."""
    lines = text.splitlines(keepends=True)
    if len(lines) < 2:
        raise GraphcError("a corpus of one line cannot be split: give at least two lines (or documents separated "
                          "by blank lines)")
    held = min(len(lines) - 1, max(1, round(len(lines) * validation)))
    return ["".join(lines[:-held]).rstrip("\n")], ["".join(lines[-held:]).rstrip("\n")]
