"""Gradient diagnostics: how far back in time a recurrent language model's gradient reaches.

``hidden_gradient_norms`` measures ‖∂L_T/∂h_t‖, the gradient of the loss at the last step of a window with respect
to the recurrent state after step t (an LSTM's state is its h and its c), for every t. The state after t steps is
an input of the model when it is run on the rest of the window (a language model's initial state is an input), so
each norm is an ordinary gradient with respect to an input, computed by the reference interpreter.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import grad
from ..backends.reference import evaluate
from ..errors import GraphcError
from ..model import Model
from ..ops import cross_entropy
from .trainer import zero_state


def hidden_gradient_norms(model: Model, params: dict, tokens: np.ndarray, targets: np.ndarray,
                          states: list[str] | None = None) -> np.ndarray:
    """``norms[t]`` = mean over the batch of ‖∂L_T/∂h_t‖ for t = 0 .. T-1 (h_0 is the state before the first
    token), where L_T is the cross-entropy of the window's last prediction. ``states`` names the initial-state
    inputs that make up h (default: all of the first layer's, such as ``state.lstm.l0.h`` and ``.c``)."""
    names = list(model.state)
    if not names:
        raise GraphcError(f"model {model.name!r} has no carried state to differentiate")
    states = states or [n for n in names if n.rpartition(".")[0] == names[0].rpartition(".")[0]]
    unknown = [s for s in states if s not in model.state]
    if unknown:
        raise GraphcError(f"{unknown} are not state inputs of {model.name!r}; its state inputs: {', '.join(names)}")
    logits, labels = model.outputs["logits"], model.inputs["targets"]
    last_loss = cross_entropy(logits[-1], labels[-1])
    gradients = grad(last_loss, [model.inputs[s] for s in states])
    finals = [model.outputs[name] for name in model.state.values()]
    steps, batch = tokens.shape
    carry = zero_state(model, batch)
    norms = np.zeros(steps)
    for t in range(steps):
        rest = {"tokens": tokens[t:], "targets": targets[t:]}
        values = evaluate(gradients, {**rest, **carry, **params})
        whole = np.concatenate([v.reshape(batch, -1) for v in values], axis=1)
        norms[t] = float(np.mean(np.linalg.norm(whole, axis=1)))
        one = {"tokens": tokens[t:t + 1], "targets": targets[t:t + 1]}  # advance the state by one token
        carry = dict(zip(names, evaluate(finals, {**one, **carry, **params})))
    return norms
