"""Checkpoints: parameters, optimizer state, carried recurrent state and a JSON description (model, configuration,
vocabulary, training position, history) in one ``.npz`` file.

Written atomically (a temporary file in the same folder, flushed to disk, then renamed over the target), so a crash
never leaves half a checkpoint; read with ``allow_pickle=False``, so loading a file never runs code.
"""

from __future__ import annotations

import json
import pathlib
import zipfile
from dataclasses import dataclass, field

import numpy as np

from ..errors import GraphcError
from ..files import write_atomically

FORMAT = "graphc-checkpoint/1"
GROUPS = ("params", "optimizer", "carry", "best")  # "best": the parameters early stopping would restore


class CheckpointError(GraphcError):
    """A checkpoint that is missing, unreadable, or of another model."""


@dataclass
class Checkpoint:
    params: dict[str, np.ndarray]
    optimizer: dict[str, np.ndarray] = field(default_factory=dict)
    carry: dict[str, np.ndarray] = field(default_factory=dict)
    best: dict[str, np.ndarray] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)


def save(path, checkpoint: Checkpoint) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{group}/{name}": np.asarray(value) for group in GROUPS
              for name, value in getattr(checkpoint, group).items()}
    arrays["metadata"] = np.array(json.dumps({"format": FORMAT, **checkpoint.metadata}))
    write_atomically(path, lambda file: np.savez(file, **arrays))
    return path


def load(path, metadata_only: bool = False, allow_nonfinite: bool = False) -> Checkpoint:
    """The checkpoint at ``path``; with ``metadata_only`` its description without reading the arrays. A checkpoint
    whose parameters or optimizer state hold NaN or Inf (a run that diverged) is refused unless ``allow_nonfinite``:
    resuming it would only train NaN further."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file {str(path)!r}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a .npy file: one bare array
            raise ValueError("it holds one array, not a checkpoint's archive")
        with archive:  # members are read on access
            names = ["metadata"] if metadata_only else archive.files
            arrays = {name: archive[name] for name in names}
        metadata = json.loads(str(arrays.pop("metadata")))
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as error:
        raise CheckpointError(f"{path} is not a readable graphc checkpoint ({type(error).__name__}: {error})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a graphc checkpoint of format {FORMAT}")
    groups = {group: {} for group in GROUPS}
    for key, value in arrays.items():
        group, _, name = key.partition("/")
        if group not in groups:
            raise CheckpointError(f"{path} holds an unexpected entry {key!r}")
        groups[group][name] = value
    broken = [f"{group} {name!r} ({int(np.size(value) - np.isfinite(value).sum())} of {np.size(value)})"
              for group in ("params", "optimizer") for name, value in groups[group].items()
              if value.dtype.kind == "f" and not np.isfinite(value).all()]
    if broken and not allow_nonfinite:
        raise CheckpointError(f"{path} holds NaN or Inf values in {', '.join(broken)}: the run it saved diverged. "
                              "Resume an earlier checkpoint, or load it anyway with allow_nonfinite=True "
                              "(--allow-nonfinite)")
    return Checkpoint(groups["params"], groups["optimizer"], groups["carry"], groups["best"], metadata)


def describe_params(params) -> dict:
    """{name: [shape, dtype]} of parameter tensors: what a checkpoint's parameters must match."""
    return {p.name: [list(p.shape), p.dtype.name] for p in params}


def check_matches(checkpoint: Checkpoint, model, source: str = "the checkpoint") -> None:
    """Raise CheckpointError naming every difference between the checkpoint's parameters and ``model``'s."""
    saved_model = checkpoint.metadata.get("model", {}).get("name")
    if saved_model is not None and saved_model != model.name:
        raise CheckpointError(f"{source} is of model {saved_model!r}, not {model.name!r}")
    expected = describe_params(model.params)
    found = {name: [list(value.shape), value.dtype.name] for name, value in checkpoint.params.items()}
    problems = [f"{name}: {_format(found[name])} in the checkpoint, {_format(expected[name])} in the model"
                for name in expected if name in found and found[name] != expected[name]]
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name not in expected]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unexpected:
        problems.append(f"not in the model: {', '.join(unexpected)}")
    if problems:
        config = checkpoint.metadata.get("model", {}).get("config")
        hint = f" (the checkpoint was saved with configuration {config})" if config else ""
        raise CheckpointError(f"{source} does not fit model {model.name!r}: {'; '.join(problems)}{hint}")


def _format(description) -> str:
    shape, dtype = description
    return f"{dtype}{tuple(shape)}"
