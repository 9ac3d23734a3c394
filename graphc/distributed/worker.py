"""One worker of a data-parallel step (a Ray actor): the model's loss, its outputs and every parameter's gradient for
the worker's shard of each batch, compiled once in the worker's process; the shard's carried state (a recurrent
net's final state) stays here between steps. It sends back gradients, never updates."""

from __future__ import annotations

import time

import numpy as np

from ..autodiff import grad
from ..backends.compiled import compile
from ..tensor import Tensor


class GradientWorker:
    """``nodes``: the loss, the outputs, then the parameters (graph nodes, pickled to the worker and interned
    there); ``carried`` maps a state input to the index of the output that feeds it at the next step."""

    def __init__(self, nodes: list, outputs: int, carried: dict[str, int], backend: str = "cpu"):
        loss, rest = Tensor(nodes[0]), [Tensor(n) for n in nodes[1:]]
        results, params = rest[:outputs], rest[outputs:]
        self.outputs, self.carried = outputs, carried
        self.shown = [i for i in range(outputs) if i not in set(carried.values())]  # outputs sent back each step
        self.compiled = compile([loss, *results, *grad(loss, params)], backend=backend)
        self.carry: dict[str, np.ndarray] = {}  # state input -> this shard's value for the next step

    def gradients(self, parameters: dict, shard: dict, weight: float, kept: list[str]) -> tuple:
        """One shard's part of a step: ``(loss, outputs that are not carried, seconds computing)`` and ``weight``
        times every gradient, as ``flat`` lays them out (few objects to move and sum). ``kept`` names the state
        inputs taken from this worker's carry."""
        start = time.perf_counter()
        feeds = {**shard, **parameters, **{name: self.carry[name] for name in kept}}
        loss, *values = self.compiled(feeds)
        results, gradients = values[:self.outputs], values[self.outputs:]
        self.carry = {name: np.array(results[index]) for name, index in self.carried.items()}
        buffers = flat(gradients, weight)
        return (float(loss), [np.asarray(results[i]) for i in self.shown], time.perf_counter() - start), buffers

    def carried_state(self, name: str) -> np.ndarray:
        """This shard's rows of a carried state (to gather it, for a checkpoint)."""
        return self.carry[name]



def flat(gradients: list[np.ndarray], weight: float) -> tuple[np.ndarray, ...]:
    """The gradients scaled by ``weight``, one buffer per dtype (dtypes in order of their names, each dtype's
    gradients in parameter order): the layout ``places`` reads."""
    groups: dict[str, list[np.ndarray]] = {}
    for gradient in gradients:
        groups.setdefault(gradient.dtype.name, []).append(np.ravel(gradient))
    buffers = tuple(np.concatenate(groups[name]) for name in sorted(groups))
    for buffer in buffers:
        buffer *= buffer.dtype.type(weight)  # in place: no second copy of every gradient
    return buffers


def places(params) -> list[tuple[int, int, int]]:
    """Where each parameter's gradient lies in ``flat``'s buffers: (buffer, start, stop)."""
    dtypes = sorted({p.dtype.name for p in params})
    filled = dict.fromkeys(dtypes, 0)
    found = []
    for p in params:
        size = int(np.prod(p.shape))
        found.append((dtypes.index(p.dtype.name), filled[p.dtype.name], filled[p.dtype.name] + size))
        filled[p.dtype.name] += size
    return found


def add(left: tuple, right: tuple) -> tuple:
    """One node of the gradient reduction tree."""
    return tuple(a + b for a, b in zip(left, right))
