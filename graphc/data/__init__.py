"""Data for the models: corpora and vocabularies (``text``), (T, B) windows of a token stream (``batches``), and
built-in labelled tasks (``tasks``), ready-made training sets for the model files (``datasets``), and pretrained
word vectors for an embedding (``vectors``)."""

from .batches import Examples, Windows, window_count, windows
from .datasets import Dataset, cluster_dataset, language_dataset, snippet_dataset, token_class_dataset
from .tasks import TOKEN_CLASSES, snippet_task, token_class_task
from .text import END, UNKNOWN, Vocabulary, builtin_documents, read_documents, split_documents
from .vectors import read_word_vectors
