"""Layers built from the DSL: ``Dense``, ``Embedding``, ``Conv1D`` over time, and the recurrent ``RNN``, ``LSTM``
and ``GRU`` (stacked with ``num_layers``, two-directional with ``bidirectional=True``)."""

from .conv import Conv1D, pool_over_time
from .layers import Dense, Embedding, Layer, activation
from .models import language_model, sequence_classifier, sequence_tagger, text_cnn_classifier
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, Recurrent, RNNCell
