"""``TrainingStep``: forward, backward, gradient clipping and the optimizer's update compiled into one native call;
``compile_step``, its one-line form.

The parameters are the caller's arrays, fed by name and updated in place; the optimizer's slots (momentum, running
averages) are arrays this object owns, updated in place by the same call. The per-step scalars (the scheduled
learning rate, Adam's bias corrections) are fed as 0-d arrays, so the compiled function never changes during a run.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import grad
from ..backends.compiled import compiled
from ..errors import GraphcError
from ..ops import cast, constant, input, minimum, sqrt, stack
from ..ops import sum as total
from ..tensor import Tensor
from .rules import SGD, Optimizer

GRADIENT = "gradient."  # a fed gradient's input name is its parameter's with this prefix


class TrainingStep:
    """``step(feeds)`` runs one training step and returns the loss from before the update (``[loss, *outputs]``
    when ``outputs`` were given). With ``gradient_norms=True`` the norm of every parameter's gradient (before
    clipping) is kept in ``last_gradient_norms``.

    Without a loss (``loss=None``) it is the update half of a data-parallel step: the gradients are fed, as
    ``gradient.<parameter name>`` (summed over the workers), and clipped, decayed and applied by the same graph
    as in one process; the call returns None."""

    def __init__(self, loss: Tensor | None, params, optimizer: Optimizer | None = None, *, outputs=(),
                 backend: str = "cpu", gradient_norms: bool = False, keep_previous: bool = False,
                 resident_outputs: int = 0):
        self.params = list(params)
        self.optimizer = optimizer or SGD()
        self.steps_taken = 0
        self.outputs = len(outputs)
        if loss is None:
            gradients = [input(GRADIENT + p.name, p.shape, p.dtype) for p in self.params]
        else:
            gradients = grad(loss, self.params)
        squares = [total(g * g) for g in gradients]  # ‖g‖² per parameter
        if self.optimizer.clip_norm is not None:
            gradients = _clip(gradients, squares, self.optimizer.clip_norm)
        if self.optimizer.weight_decay:
            gradients = [g + self.optimizer.weight_decay * p for p, g in zip(self.params, gradients)]  # L2: g + λθ
        keys = list(self.optimizer.scalars(0))
        self._scalars: list[tuple[str, np.ndarray]] = []  # (key, the 0-d array refilled every step)
        self._scalar_feeds: dict[str, np.ndarray] = {}  # the same arrays by input name "optimizer.<dtype>.<key>"
        scalar_inputs = {}
        for dtype in sorted({p.dtype.name for p in self.params}):
            for key in keys:
                name = f"optimizer.{dtype}.{key}"
                scalar_inputs[dtype, key] = input(name, (), dtype)
                self._scalars.append((key, np.zeros((), dtype)))
                self._scalar_feeds[name] = self._scalars[-1][1]
        self.state: dict[str, np.ndarray] = {}
        writes = {}
        for p, g in zip(self.params, gradients):
            slots = {slot: input(f"optimizer.{slot}.{p.name}", p.shape, p.dtype) for slot in self.optimizer.slots}
            scalars = {key: scalar_inputs[p.dtype.name, key] for key in keys}
            new_value, new_slots = self.optimizer.update(p, g, slots, scalars)
            writes[p.name] = new_value
            for slot, value in new_slots.items():
                writes[slots[slot].name] = value
                self.state[slots[slot].name] = np.zeros(tuple(p.shape), p.dtype)
        self.gradient_norms = gradient_norms
        extra = [stack([cast(sqrt(s), "float64") for s in squares])] if gradient_norms else []
        results = [loss, *outputs] if loss is not None else []
        self.compiled = compiled([*results, *extra], writes, backend=backend)
        self.compiled.keep_previous = keep_previous
        # the last ``resident_outputs`` outputs (a carried state) stay on a GPU backend's device, to be fed back
        self.compiled.resident_outputs = set(range(1 + len(outputs) - resident_outputs, 1 + len(outputs)))
        self.last_gradient_norms: dict[str, float] = {}

    def __call__(self, feeds: dict, seed: int | None = None):
        scalars = self.optimizer.scalars(self.steps_taken)
        for key, array in self._scalars:
            array[...] = scalars[key]
        # random ops (dropout) draw from a seed per step, so a resumed run draws what the uninterrupted one did
        results = self.compiled(self.compiled_feeds(feeds), seed=self.steps_taken if seed is None else seed)
        self.steps_taken += 1
        if self.gradient_norms:
            *results, norms = results
            self.last_gradient_norms = {p.name: float(n) for p, n in zip(self.params, norms)}
        if not results:  # an update of fed gradients
            return None
        return results if self.outputs else results[0]

    def compiled_feeds(self, feeds: dict) -> dict:
        """Everything the compiled step reads: ``feeds``, the optimizer's slots and its per-step scalars."""
        return {**feeds, **self.state, **self._scalar_feeds}

    def rollback(self) -> None:
        """Undo the latest step: parameters and optimizer state as they were before it (needs ``keep_previous``)."""
        self.compiled.rollback()
        self.steps_taken -= 1

    def synchronize(self) -> None:
        """Bring the caller's parameter arrays and ``state`` up to date; on the CPU they always are, a GPU backend
        updates its own copies on the device and copies them back only when asked."""
        self.compiled.synchronize()

    def invalidate(self) -> None:
        """Say that the caller changed parameter arrays in place (a GPU backend copies them again)."""
        self.compiled.invalidate()

    @property
    def source(self) -> str:
        return self.compiled.source

    def state_dict(self) -> dict[str, np.ndarray]:
        """The optimizer's state: every slot array and the number of steps taken (for checkpoints)."""
        self.synchronize()
        return {"steps_taken": np.array(self.steps_taken, np.int64), **self.state}

    def load_state_dict(self, state: dict) -> None:
        """Restore ``state_dict()``'s arrays (copied into this step's own arrays)."""
        expected = set(self.state) | {"steps_taken"}
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise GraphcError(f"optimizer state does not match {self.optimizer.name}: missing {missing or 'nothing'}, "
                              f"unexpected {extra or 'nothing'}")
        for name, array in self.state.items():
            value = np.asarray(state[name])
            if value.shape != array.shape or value.dtype != array.dtype:
                raise GraphcError(f"optimizer slot {name!r} is {value.dtype}{value.shape}, expected "
                                  f"{array.dtype}{array.shape}")
            array[...] = value
        self.invalidate()
        self.steps_taken = int(state["steps_taken"])


def _clip(gradients: list[Tensor], squares: list[Tensor], limit: float) -> list[Tensor]:
    """Global-norm clipping as ``torch.nn.utils.clip_grad_norm_`` does it: g ← g · min(1, τ / (‖g‖ + 1e-6))."""
    by_dtype = {}
    for g, square in zip(gradients, squares):
        by_dtype.setdefault(g.dtype.name, []).append(square)
    squares = [total(stack(group)) for group in by_dtype.values()]
    squares = [cast(s, "float64") for s in squares] if len(squares) > 1 else squares
    global_norm = sqrt(squares[0] if len(squares) == 1 else total(stack(squares)))
    scale = minimum(constant(1.0, global_norm.dtype), limit / (global_norm + 1e-6))
    return [g * (scale if scale.dtype == g.dtype else cast(scale, g.dtype)) for g in gradients]


def compile_step(loss: Tensor, params, lr: float | None = None, backend: str = "cpu", outputs=(), *,
                 optimizer=None) -> TrainingStep:
    """One training step in one native call: ``step(feeds)`` returns the loss (before the update) and updates the
    parameter arrays of ``feeds`` in place. The update is plain SGD ``p <- p - lr * dloss/dp`` unless an
    ``optimizer`` from ``graphc.optim`` is given. With ``outputs`` (tensors computed along the way, such as a
    recurrent net's final state) it returns ``[loss, *outputs]``. See ``TrainingStep``."""
    if optimizer is None and lr is None:
        raise GraphcError("compile_step needs a learning rate (lr=) or an optimizer (optimizer=)")
    return TrainingStep(loss, params, optimizer or SGD(lr), outputs=outputs, backend=backend)
