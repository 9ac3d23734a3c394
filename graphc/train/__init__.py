"""Training: the ``Trainer`` (epochs, validation, early stopping, progress, Ctrl-C), its ``History``, checkpoints,
plots, and language modelling (``language``: perplexity, generation)."""

from . import checkpoint, diagnostics, language, plots
from .checkpoint import CheckpointError
from .history import History
from .trainer import Trainer, zero_state
