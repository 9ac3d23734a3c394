"""Layers built from the DSL: ``Dense``, ``Embedding``, and the recurrent ``RNN``, ``LSTM`` and ``GRU`` (stacked
with ``num_layers``, two-directional with ``bidirectional=True``)."""

from .layers import Dense, Embedding, Layer
from .models import language_model, sequence_classifier, sequence_tagger
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, Recurrent, RNNCell
