"""Training: the ``Trainer`` (epochs, validation, early stopping, progress, Ctrl-C), its ``History``, callbacks and
logs, checkpoints, plots, and language modelling (``language``: perplexity, generation)."""

from . import checkpoint, diagnostics, language, plots
from .callbacks import Callback, CSVLogger, TensorBoardLogger
from .checkpoint import CheckpointError
from .history import History
from .trainer import Trainer, zero_state
