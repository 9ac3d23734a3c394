"""Training sets as mini-batches: a token stream cut into (T, B) windows for truncated backpropagation through time
(``windows``, ``Windows``), and arrays of examples shuffled per epoch (``Examples``).

The stream is split into B contiguous lanes, one per batch column; window k holds tokens [kT, (k+1)T) of every lane
and its targets are the same positions shifted by one (teacher forcing: the true previous token is the input). So
lane b of window k+1 continues lane b of window k, and the final state of one window is the right initial state of
the next.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..errors import GraphcError


def windows(stream: np.ndarray, steps: int, batch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(inputs, targets) pairs of shape (steps, batch), in stream order; the last partial window is dropped."""
    length = (len(stream) - 1) // batch
    if length < steps + 1:
        raise GraphcError(f"a stream of {len(stream)} tokens is too short for windows of {steps} x {batch}")
    columns = stream[: length * batch + 1]
    inputs = columns[:-1][: length * batch].reshape(batch, length).T
    targets = columns[1:][: length * batch].reshape(batch, length).T
    for start in range(0, length - steps + 1, steps):
        yield (np.ascontiguousarray(inputs[start:start + steps]), np.ascontiguousarray(targets[start:start + steps]))


def window_count(stream: np.ndarray, steps: int, batch: int) -> int:
    return ((len(stream) - 1) // batch) // steps


class Windows:
    """A token stream as a training set: its (T, B) windows in stream order, as ``{"tokens", "targets"}`` feeds.

    Never shuffled: lane b of one window continues lane b of the previous one, which is what lets a recurrent
    model carry its state across windows.
    """

    carries_state = True
    unit = "tokens"

    def __init__(self, stream: np.ndarray, seq_len: int, batch: int, names: tuple[str, str] = ("tokens", "targets")):
        self.stream, self.seq_len, self.batch, self.names = np.asarray(stream), seq_len, batch, names
        if window_count(self.stream, seq_len, batch) < 1:
            raise GraphcError(f"a stream of {len(self.stream)} tokens has no window of {seq_len} x {batch}")

    def __len__(self) -> int:
        return window_count(self.stream, self.seq_len, self.batch)

    def batches(self, epoch: int = 0, seed: int = 0) -> Iterator[dict]:
        for inputs, targets in windows(self.stream, self.seq_len, self.batch):
            yield {self.names[0]: inputs, self.names[1]: targets}

    def units(self, batch: dict) -> int:
        return batch[self.names[0]].size

    def units_between(self, first: int, last: int) -> int:
        """The tokens of batches ``first`` to ``last - 1`` of an epoch."""
        return (last - first) * self.seq_len * self.batch


class Examples:
    """Arrays that share an example axis (``axes[name]``, default 0) as mini-batches, shuffled per epoch by a
    generator seeded with (seed, epoch), so any epoch's order can be rebuilt (a resumed run sees the same batches).
    The last batch may be smaller."""

    carries_state = False
    unit = "examples"

    def __init__(self, arrays: dict[str, np.ndarray], batch: int, *, axes: dict[str, int] | None = None,
                 shuffle: bool = True):
        self.arrays = {name: np.asarray(value) for name, value in arrays.items()}
        self.axes = {name: (axes or {}).get(name, 0) for name in self.arrays}
        counts = {name: value.shape[self.axes[name]] for name, value in self.arrays.items()}
        if len(set(counts.values())) != 1:
            raise GraphcError(f"the arrays disagree on the number of examples: {counts}")
        if batch < 1:
            raise GraphcError(f"the batch size must be positive, got {batch}")
        self.count, self.batch, self.shuffle = next(iter(counts.values())), batch, shuffle

    def __len__(self) -> int:
        return -(-self.count // self.batch)

    def batches(self, epoch: int = 0, seed: int = 0) -> Iterator[dict]:
        order = (np.random.default_rng([seed, epoch]).permutation(self.count) if self.shuffle
                 else np.arange(self.count))
        for start in range(0, self.count, self.batch):
            chosen = order[start:start + self.batch]
            yield {name: np.ascontiguousarray(np.take(value, chosen, axis=self.axes[name]))
                   for name, value in self.arrays.items()}

    def units(self, batch: dict) -> int:
        name = next(iter(self.arrays))
        return batch[name].shape[self.axes[name]]

    def units_between(self, first: int, last: int) -> int:
        """The examples of batches ``first`` to ``last - 1`` of an epoch (the last batch may be smaller)."""
        return min(last * self.batch, self.count) - min(first * self.batch, self.count)
