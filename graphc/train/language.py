"""Language modelling end to end: training with truncated backpropagation through time, perplexity on held-out
text, and generation from priming text.

A model here is a ``graphc.Model`` with inputs ``tokens`` and ``targets`` (time, batch), a mean cross-entropy
``loss``, a ``logits`` output, and a ``state`` map from initial-state inputs to final-state outputs
(``graphc.nn.language_model`` builds one). Each training window starts from the previous window's final state, fed
back as an input: gradients stop at the window boundary.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

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
    state = zero_state(model, batch)
    total, count = 0.0, 0
    for tokens, targets in windows(stream, seq_len, batch):
        values = model.evaluate({"tokens": tokens, "targets": targets, **state, **params})
        state = {name: values[final] for name, final in model.state.items()}
        total += float(values["loss"]) * tokens.size
        count += tokens.size
    return math.exp(total / count)


class UnknownTokenWarning(UserWarning):
    """Text given to a language model holds tokens outside its vocabulary."""


def generate(model: Model, params: dict, vocabulary: Vocabulary, prime: str, *, max_tokens: int = 200,
             temperature: float = 1.0, top_k: int | None = None, seed: int = 0, backend: str = "cpu") -> str:
    """Text continuing ``prime``: each token sampled from softmax(logits / temperature) over the ``top_k`` most
    likely (all when None), fed back in; stops at the end marker or after ``max_tokens`` tokens."""
    if temperature <= 0:
        raise GraphcError(f"temperature must be positive, got {temperature}")
    missing = vocabulary.unknown(prime)
    if missing:
        warnings.warn(f"the prime holds {len(missing)} token(s) the vocabulary lacks, read as the unknown token: "
                      f"{', '.join(map(repr, missing[:20]))}{' ...' if len(missing) > 20 else ''}", UnknownTokenWarning,
                      stacklevel=2)
    rng = np.random.default_rng(seed)
    state = zero_state(model, 1)
    primed = vocabulary.encode(prime) if prime else np.array([vocabulary.index[END]])
    end = vocabulary.index[END]
    generated: list[int] = []
    token = None
    for token in primed:  # read the prime one token at a time: one compiled shape for priming and sampling
        logits, state = _advance(model, params, state, token, backend)
    while len(generated) < max_tokens:
        token = _sample(logits, temperature, top_k, rng)
        if token == end:
            break
        generated.append(token)
        logits, state = _advance(model, params, state, token, backend)
    return vocabulary.decode(generated)


def _advance(model, params, state, token, backend):
    """One token through the model's evaluator (the one validation uses; its loss, against the token itself, is not
    read): the next token's logits and the new state."""
    tokens = np.array([[token]], dtype=np.int64)
    values = model.evaluate({"tokens": tokens, "targets": tokens, **state, **params}, backend)
    return values["logits"][0, 0].astype(np.float64), {name: values[final] for name, final in model.state.items()}


def _sample(logits: np.ndarray, temperature: float, top_k: int | None, rng) -> int:
    scaled = logits / temperature
    if top_k is not None and top_k < len(scaled):
        cutoff = np.partition(scaled, -top_k)[-top_k]
        scaled = np.where(scaled >= cutoff, scaled, -np.inf)
    probabilities = np.exp(scaled - scaled.max())
    probabilities /= probabilities.sum()
    return int(rng.choice(len(probabilities), p=probabilities))
