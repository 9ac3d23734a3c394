"""Recurrent layers built on ``graphc.scan``: RNN, LSTM and GRU, stacked and bidirectional.

Sequences are time-major, (time, batch, features), as in ``torch.nn.RNN``. Weights multiply from the right
(``x_t·W``) and the gates of one cell share one matrix, blocks side by side, so a step is one matmul with ``U``
and the input projections of all steps hoist into one matmul with ``W``:

- ``RNN``: ``h_t = g(x_t·W + h_{t-1}·U + b)``, g = tanh or relu. ``W`` (n, m), ``U`` (m, m), ``b`` (m,).
- ``LSTM``: blocks in the order input gate, forget gate, candidate, output gate (PyTorch's i, f, g, o), for the
  gates kept: ``W`` (n, k·m), ``U`` (m, k·m), ``b`` (k·m,), one bias per block, so 4·(m(n+m) + m) parameters with
  every gate. Peepholes add diagonal weights ``peephole_input``, ``peephole_forget`` (seeing c_{t-1}) and
  ``peephole_output`` (seeing c_t), each (m,). A removed gate is fixed to 1; with none, ``c_t = c_{t-1} + g_t``.
- ``GRU`` (PyTorch's form, reset applied after the recurrent matmul): blocks reset r, update z, candidate n;
  ``n_t = tanh(x_t·W_n + b_n + r_t ⊙ (h_{t-1}·U_n + b'_n))``, ``h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}``.
  ``W`` (n, 3m), ``U`` (m, 3m), ``b`` and ``b_hidden`` (3m,). math.md's update gate is u_t = 1 - z_t.
  ``reset_after=False`` is math.md's form, ``tanh(x_t·W_n + (r_t ⊙ h_{t-1})·U_n + b_n)``, with one bias.

Layer l of direction d has parameters ``<name>.l<l>[.reverse].<W|U|b|...>``.
"""

from __future__ import annotations

import warnings

from ..errors import ShapeError, user_location
from ..loops import scan
from ..ops import broadcast_to, concat, constant, dropout, relu, sigmoid, tanh
from ..tensor import Tensor, name, scope
from .layers import Layer

LSTM_GATES = ("input", "forget", "output")
MERGES = ("concat", "sum", "product")


class Cell(Layer):
    """One direction of one layer: its parameters and its step function."""

    blocks = 1
    carries = 1

    def __init__(self, name: str, inputs: int, hidden: int, dtype):
        super().__init__(name, dtype)
        self.inputs, self.hidden = inputs, hidden

    def matrices(self, blocks: int) -> tuple[Tensor, Tensor, Tensor]:
        m = self.hidden
        return (self.param("W", (self.inputs, blocks * m), "glorot_uniform"),
                self.param("U", (m, blocks * m), "orthogonal"), self.param("b", (blocks * m,), "zeros"))

    def block(self, z: Tensor, k: int) -> Tensor:
        return z[..., k * self.hidden:(k + 1) * self.hidden]

    def zeros(self, batch) -> tuple:
        zero = broadcast_to(constant(0.0, self.dtype), (batch, self.hidden))
        return (zero,) * self.carries


class RNNCell(Cell):
    def __init__(self, name, inputs, hidden, dtype, nonlinearity="tanh"):
        super().__init__(name, inputs, hidden, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ShapeError(f"RNN nonlinearity must be 'tanh' or 'relu', not {nonlinearity!r}", user_location())
        self.function = tanh if nonlinearity == "tanh" else relu
        self.W, self.U, self.b = self.matrices(1)

    def step(self, carry, x):
        (h,) = carry
        h = named(self.function(x @ self.W + h @ self.U + self.b), "h")
        return (h,), h


class LSTMCell(Cell):
    carries = 2

    def __init__(self, name, inputs, hidden, dtype, peephole=False, gates=LSTM_GATES):
        super().__init__(name, inputs, hidden, dtype)
        unknown = [g for g in gates if g not in LSTM_GATES]
        if unknown:
            raise ShapeError(f"unknown LSTM gates {unknown}; choose from {LSTM_GATES}", user_location())
        self.gates = tuple(g for g in LSTM_GATES if g in gates)
        self.order = [g for g in ("input", "forget") if g in self.gates] + ["cell"] + (
            ["output"] if "output" in self.gates else [])
        self.W, self.U, self.b = self.matrices(len(self.order))
        self.peepholes = {g: self.param(f"peephole_{g}", (hidden,), "zeros") for g in self.gates} if peephole else {}

    def step(self, carry, x):
        h, c = carry
        z = x @ self.W + h @ self.U + self.b
        pre = {name: self.block(z, k) for k, name in enumerate(self.order)}

        def gate(name, cell):
            if name not in self.gates:
                return None
            value = pre[name] + self.peepholes[name] * cell if name in self.peepholes else pre[name]
            return sigmoid(value)

        i, f = named(gate("input", c), "i"), named(gate("forget", c), "f")
        g = named(tanh(pre["cell"]), "g")
        c = named((c if f is None else f * c) + (g if i is None else i * g), "c")
        o = named(gate("output", c), "o")
        h = named(tanh(c) if o is None else o * tanh(c), "h")
        return (h, c), h


def named(value: Tensor | None, label: str) -> Tensor | None:
    """``value`` named for pictures (the textbook's letter for a gate or a state); an ablated gate is None."""
    return None if value is None else name(value, label)


class GRUCell(Cell):
    def __init__(self, name, inputs, hidden, dtype, reset_after=True):
        super().__init__(name, inputs, hidden, dtype)
        self.reset_after = reset_after
        self.W, self.U, self.b = self.matrices(3)
        self.b_hidden = self.param("b_hidden", (3 * hidden,), "zeros") if reset_after else None

    def step(self, carry, x):
        (h,) = carry
        gx = x @ self.W + self.b
        m = self.hidden
        if self.reset_after:
            gh = h @ self.U + self.b_hidden
            r = named(sigmoid(self.block(gx, 0) + self.block(gh, 0)), "r")
            z = named(sigmoid(self.block(gx, 1) + self.block(gh, 1)), "z")
            n = named(tanh(self.block(gx, 2) + r * self.block(gh, 2)), "n")
        else:
            gh = h @ self.U[:, :2 * m]
            r = named(sigmoid(self.block(gx, 0) + self.block(gh, 0)), "r")
            z = named(sigmoid(self.block(gx, 1) + self.block(gh, 1)), "z")
            n = named(tanh(self.block(gx, 2) + (r * h) @ self.U[:, 2 * m:]), "n")
        h = named((1.0 - z) * n + z * h, "h")
        return (h,), h


class Recurrent(Layer):
    """``num_layers`` stacked layers of a cell, each one- or two-directional; ``layer(xs, state=None)`` returns
    ``(outputs, state)``: the last layer's outputs (time, batch, features) and the final carry of every layer and
    direction, as a list of tuples ((h,) or (h, c)) in the order layer 0 forward, layer 0 reverse, layer 1, ...
    ``dropout``: a rate of dropout on each layer's outputs but the last's, in training (as PyTorch's)."""

    cell = Cell

    def __init__(self, inputs: int, hidden: int, *, num_layers: int = 1, bidirectional: bool = False,
                 merge: str = "concat", recompute: bool = False, dropout: float = 0.0, name: str = "rnn",
                 dtype="float32", **options):
        super().__init__(name, dtype)
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ShapeError(f"dropout must be a rate in [0, 1), not {dropout!r}", user_location())
        if dropout and num_layers == 1:
            warnings.warn("dropout acts between recurrent layers (as PyTorch's); with num_layers=1 it does nothing",
                          stacklevel=2)
        self.dropout = float(dropout)
        if merge not in MERGES:
            raise ShapeError(f"merge must be one of {MERGES}, not {merge!r}", user_location())
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ShapeError(f"num_layers must be a positive integer, not {num_layers!r}", user_location())
        self.hidden, self.num_layers, self.bidirectional, self.merge = hidden, num_layers, bidirectional, merge
        self.recompute = recompute
        self.cells: list[Cell] = []
        size = inputs
        for layer in range(num_layers):
            for direction in ((".", ".reverse.") if bidirectional else (".",)):
                cell = self.cell(f"{name}.l{layer}{direction.rstrip('.')}", size, hidden, dtype, **options)
                self.cells.append(cell)
                self.params.update({f"l{layer}{direction}{k}": p for k, p in cell.params.items()})
            size = 2 * hidden if bidirectional and merge == "concat" else hidden

    @property
    def output_size(self) -> int:
        return 2 * self.hidden if self.bidirectional and self.merge == "concat" else self.hidden

    def __call__(self, xs: Tensor, state=None):
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for d in range(directions):
                index = layer * directions + d
                cell = self.cells[index]
                start = tuple(state[index]) if state is not None else cell.zeros(xs.shape[1])
                with scope(cell.name):
                    final, ys = scan(cell.step, start, xs, reverse=d == 1, recompute=self.recompute,
                                     carry_names=("h", "c")[:cell.carries])
                finals.append(final)
                outputs.append(ys)
            xs = outputs[0] if directions == 1 else _merge(outputs, self.merge)
            if self.dropout and layer < self.num_layers - 1:  # between layers, in training only
                xs = dropout(xs, self.dropout)
        return xs, finals


def _merge(outputs, how):
    forward, backward = outputs
    if how == "concat":
        return concat([forward, backward], axis=-1)
    return forward + backward if how == "sum" else forward * backward


class RNN(Recurrent):
    """Elman RNN layers; ``nonlinearity="tanh"`` or ``"relu"``."""

    cell = RNNCell


class LSTM(Recurrent):
    """LSTM layers; options ``peephole=True`` and ``gates=`` any subset of ("input", "forget", "output")."""

    cell = LSTMCell


class GRU(Recurrent):
    """GRU layers; ``reset_after=False`` for math.md's form (reset before the recurrent matmul)."""

    cell = GRUCell
