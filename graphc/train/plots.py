"""Pictures of a training run as PNG files (matplotlib, without a display): the loss and perplexity (or accuracy)
curves, per-parameter gradient norms, and the vanishing-gradient picture."""

from __future__ import annotations

import math
import pathlib

import numpy as np

from .history import History


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: works on machines without a display
    import matplotlib.pyplot as plt

    return plt


def _moving_average(values, width: int) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    width = max(1, min(width, len(values)))
    kernel = np.ones(width) / width
    return np.convolve(values, kernel, mode="valid")


def loss_curve(history: History, path, title: str = "", perplexity: bool | None = None) -> pathlib.Path:
    """The training loss of every step (and its moving average), validation losses at the end of each epoch; a
    second panel with perplexity (``perplexity=True``, or when the epochs report it) or else accuracy, when the
    history has it."""
    plt = _pyplot()
    steps = np.arange(1, len(history.losses) + 1)
    epochs = history.epochs
    if perplexity is None:
        perplexity = any("perplexity" in e for e in epochs)
    second = "perplexity" if perplexity else "accuracy" if any("accuracy" in e for e in epochs) else None
    figure, axes = plt.subplots(1, 2 if second else 1, figsize=(11 if second else 6, 4), squeeze=False)
    loss_axis = axes[0][0]
    width = max(1, len(steps) // 50)
    loss_axis.plot(steps, history.losses, color="#9ab", linewidth=0.6, label="training loss (each step)")
    smooth = _moving_average(history.losses, width) if len(steps) else []
    loss_axis.plot(steps[width - 1:], smooth, color="#246", label=f"moving average of {width}")
    _epoch_marks(loss_axis, epochs, "validation_loss", "validation loss")
    loss_axis.set(xlabel="step", ylabel="loss", title=title or "loss")
    loss_axis.legend()
    if second:
        axis = axes[0][1]
        if second == "perplexity" and len(smooth):
            axis.plot(steps[width - 1:], np.exp(np.minimum(smooth, 700)), color="#246",
                      label="training (moving average)")
        else:
            _epoch_marks(axis, epochs, second, f"training {second}", color="#246")
        _epoch_marks(axis, epochs, f"validation_{second}", f"validation {second}")
        axis.set(xlabel="step", ylabel=second, title=second)
        if second == "perplexity":
            axis.set_yscale("log")
        axis.legend()
    return _save(figure, path)


def _epoch_marks(axis, epochs, key, label, color="#c42"):
    marks = [(e["steps"], e[key]) for e in epochs if key in e and e[key] is not None and math.isfinite(e[key])]
    if marks:
        axis.plot(*zip(*marks), "o-", color=color, label=label)


def gradient_norms(history: History, path) -> pathlib.Path:
    """Every parameter's gradient norm against the step (log scale), from ``Trainer(track_gradients=N)``."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 4))
    records = history.gradient_norms
    names = [k for k in (records[0] if records else {}) if k != "step"]
    for name in names:
        axis.plot([r["step"] for r in records], [r[name] for r in records], label=name)
    axis.set(xlabel="step", ylabel=r"$\|\partial L / \partial \theta\|$", title="gradient norm per parameter",
             yscale="log")
    if names:
        axis.legend(fontsize="small")
    return _save(figure, path)


def vanishing_gradients(curves: dict[str, np.ndarray], path) -> pathlib.Path:
    """``curves[label][t]`` = ‖∂L_T/∂h_t‖ (``diagnostics.hidden_gradient_norms``), drawn against the distance
    T - t from the predicted step, on a log scale: a vanishing gradient is a line falling away."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 4))
    for label, norms in curves.items():
        norms = np.asarray(norms)
        axis.plot(len(norms) - np.arange(len(norms)), norms, marker=".", label=label)
    axis.set(xlabel="steps back from the predicted token (T - t)", ylabel=r"$\|\partial L_T / \partial h_t\|$",
             yscale="log", title="how far back the gradient reaches")
    axis.legend()
    return _save(figure, path)


def _save(figure, path) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    _pyplot().close(figure)
    return path
