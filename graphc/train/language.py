"""Language modelling end to end: training with truncated backpropagation through time, perplexity on held-out
text, and generation from priming text.

A model here is a ``graphc.Model`` with inputs ``tokens`` and ``targets`` (time, batch), a mean cross-entropy
``loss``, a ``logits`` output, and a ``state`` map from initial-state inputs to final-state outputs
(``graphc.nn.language_model`` builds one). Each training window starts from the previous window's final state, fed
back as an input: gradients stop at the window boundary.
"""

from __future__ import annotations

import math

import numpy as np

from ..backends.compiled import compile
from ..data.batches import Windows, windows
from ..data.text import END, Vocabulary
from ..errors import GraphcError
from ..model import Model
from ..optim import SGD
from .trainer import Trainer, zero_state


def train(model: Model, stream: np.ndarray, *, steps: int, seq_len: int = 64, batch: int = 32, lr: float = 1.0,
          params: dict | None = None, seed: int = 0, callback=None,
          check_numerics: bool = True) -> tuple[dict, list[float]]:
    """``steps`` SGD steps over windows of ``stream`` (cycling; the state restarts at zero each pass): a
    ``Trainer`` without its progress bar. Returns the parameters (updated in place when given) and the loss of
    every step. A non-finite loss stops training; with ``check_numerics`` the error names the op that produced it
    and the parameters are left as they were before that step."""
    source = Windows(stream, seq_len, batch)
    trainer = Trainer(model, SGD(lr), params=params, seed=seed, check_numerics=check_numerics, progress=False)
    history = trainer.fit(source, epochs=-(-steps // len(source)), max_steps=steps, callback=callback)
    return trainer.params, history.losses


def perplexity(model: Model, params: dict, stream: np.ndarray, *, seq_len: int = 64, batch: int = 32) -> float:
    """exp(mean cross-entropy) over every predicted token of ``stream``, the state carried across windows."""
    finals = [model.outputs[name] for name in model.state.values()]
    function = compile([model.loss, *finals])
    state = zero_state(model, batch)
    total, count = 0.0, 0
    for tokens, targets in windows(stream, seq_len, batch):
        loss, *carried = function({"tokens": tokens, "targets": targets, **state, **params})
        state = dict(zip(model.state, carried))
        total += float(loss) * tokens.size
        count += tokens.size
    return math.exp(total / count)


def generate(model: Model, params: dict, vocabulary: Vocabulary, prime: str, *, max_tokens: int = 200,
             temperature: float = 1.0, top_k: int | None = None, seed: int = 0, backend: str = "cpu") -> str:
    """Text continuing ``prime``: each token sampled from softmax(logits / temperature) over the ``top_k`` most
    likely (all when None), fed back in; stops at the end marker or after ``max_tokens`` tokens."""
    if temperature <= 0:
        raise GraphcError(f"temperature must be positive, got {temperature}")
    rng = np.random.default_rng(seed)
    function = compile([model.outputs["logits"], *(model.outputs[name] for name in model.state.values())],
                       backend=backend)
    state = zero_state(model, 1)
    primed = vocabulary.encode(prime) if prime else np.array([vocabulary.index[END]])
    end = vocabulary.index[END]
    generated: list[int] = []
    token = None
    for token in primed:  # read the prime one token at a time: one compiled shape for priming and sampling
        logits, state = _advance(model, function, params, state, token)
    while len(generated) < max_tokens:
        token = _sample(logits, temperature, top_k, rng)
        if token == end:
            break
        generated.append(token)
        logits, state = _advance(model, function, params, state, token)
    return vocabulary.decode(generated)


def _advance(model, function, params, state, token):
    tokens = np.array([[token]], dtype=np.int64)
    logits, *carried = function({"tokens": tokens, "targets": tokens, **state, **params})
    return logits[0, 0].astype(np.float64), dict(zip(model.state, carried))


def _sample(logits: np.ndarray, temperature: float, top_k: int | None, rng) -> int:
    scaled = logits / temperature
    if top_k is not None and top_k < len(scaled):
        cutoff = np.partition(scaled, -top_k)[-top_k]
        scaled = np.where(scaled >= cutoff, scaled, -np.inf)
    probabilities = np.exp(scaled - scaled.max())
    probabilities /= probabilities.sum()
    return int(rng.choice(len(probabilities), p=probabilities))
