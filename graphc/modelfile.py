"""Loading a model file: a Python file defining ``build(**config)`` that returns a ``graphc.Model``."""

from __future__ import annotations

import ast
import importlib.util
import pathlib

from .errors import GraphcError
from .model import Model


class ModelFileError(GraphcError):
    """A model file that is missing, broken, or does not build a Model."""


def resolve(model: str) -> pathlib.Path:
    """A path to a model file, or the name of one in ./models (``mlp`` for models/mlp.py)."""
    path = pathlib.Path(model)
    if path.is_file():
        return path
    candidate = pathlib.Path("models") / f"{model}.py"
    if path.suffix == "" and candidate.is_file():
        return candidate
    known = sorted(p.stem for p in pathlib.Path("models").glob("*.py") if p.stem != "__init__")
    hint = f"; models here: {', '.join(known)}" if known else ""
    raise ModelFileError(f"no model file {model!r} (give a path to a .py file defining build(**config){hint})")


def parse_config(items) -> dict:
    """``["hidden=4", "sizes=(2, 8, 1)", "activation=relu"]`` -> {"hidden": 4, ...}: Python literals, else strings."""
    config = {}
    for item in items or ():
        key, separator, text = item.partition("=")
        if not separator or not key.isidentifier():
            raise ModelFileError(f"bad option {item!r}: write NAME=VALUE")
        try:
            config[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            config[key] = text
    return config


def load(model: str, config: dict | None = None) -> Model:
    path = resolve(model)
    spec = importlib.util.spec_from_file_location(f"graphc_model_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's file: report what broke, in one line
        raise ModelFileError(f"{path} failed to load: {type(error).__name__}: {error}") from error
    if not callable(getattr(module, "build", None)):
        raise ModelFileError(f"{path} defines no build(**config) function")
    try:
        built = module.build(**(config or {}))
    except TypeError as error:
        raise ModelFileError(f"{path}: build() does not take that configuration: {error}") from error
    if not isinstance(built, Model):
        raise ModelFileError(f"{path}: build() returned {type(built).__name__}, not a graphc.Model")
    return built
