"""A token stream cut into (T, B) windows for truncated backpropagation through time.

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
