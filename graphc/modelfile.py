"""Loading a model file: a Python file defining ``build(**config)`` that returns a ``graphc.Model`` and, optionally,
``dataset(**options)`` that returns the ``graphc.data.Dataset`` it is trained on."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import pathlib
import traceback

from .data import Dataset
from .errors import GraphcError
from .model import Model


class ModelFileError(GraphcError):
    """A model file that is missing, broken, or does not build a Model."""


BUILTIN = pathlib.Path(__file__).resolve().parent / "models"  # installed with the package


def builtin_models() -> dict[str, str]:
    """The built-in models by name, each with the first line of its file's docstring."""
    found = {}
    for path in sorted(BUILTIN.glob("*.py")):
        if path.stem != "__init__":
            found[path.stem] = (ast.get_docstring(ast.parse(path.read_text())) or "").split("\n")[0]
    return found


def resolve(model: str) -> pathlib.Path:
    """A built-in model's file by its bare name (``mlp``), or the user's model file by its path (``./mine.py``,
    ``models/mine.py``). A bare name never means a file of the current directory: running ``graphc train xor`` in a
    folder someone else prepared must not run their code."""
    if "/" not in model and os.sep not in model and not model.endswith(".py"):
        path = BUILTIN / f"{model}.py"
        if model.isidentifier() and path.is_file():
            return path
        local = pathlib.Path(f"{model}.py")
        hint = f"; for the file here, give its path: ./{local}" if local.is_file() else ""
        raise ModelFileError(f"no built-in model {model!r} (built-in: {', '.join(builtin_models())}; "
                             f"give a model file as a path, such as ./my_model.py{hint})")
    path = pathlib.Path(model)
    if not path.is_file():
        raise ModelFileError(f"no model file {model!r} (give a path to a .py file defining build(**config), or "
                             f"the name of a built-in model: {', '.join(builtin_models())})")
    return path


def builtin_name(path) -> str | None:
    """The built-in model's name if ``path`` is one's file, else None (a user's file)."""
    path = pathlib.Path(path).resolve()
    return path.stem if path.parent == BUILTIN and path.is_file() else None


def parse_config(items) -> dict:
    """``["hidden=4", "sizes=(2, 8, 1)", "activation=relu"]`` -> {"hidden": 4, ...}: Python literals, else strings.
    ``true`` and ``false`` in any case are booleans too: as strings, "false" would be true."""
    config = {}
    for item in items or ():
        key, separator, text = item.partition("=")
        if not separator or not key.isidentifier():
            raise ModelFileError(f"bad option {item!r}: write NAME=VALUE")
        if text.lower() in ("true", "false"):
            config[key] = text.lower() == "true"
            continue
        try:
            config[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            config[key] = text
    return config


def load_module(model: str):
    """The model file's module and its path."""
    path = resolve(model)
    spec = importlib.util.spec_from_file_location(f"graphc_model_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's file: report what broke, in one line
        raise ModelFileError(f"{path} failed to load: {type(error).__name__}: {error}") from error
    if not callable(getattr(module, "build", None)):
        raise ModelFileError(f"{path} defines no build(**config) function")
    return module, path


def build(module, path, config: dict | None = None) -> Model:
    _check_accepts(module.build, config or {}, f"{path}: build()")
    try:
        built = module.build(**(config or {}))
    except GraphcError:  # graphc's own errors name the user's line already
        raise
    except TypeError as error:  # a setting passed on to a layer that does not take it
        raise ModelFileError(f"{path}: build() does not take that configuration: {error}") from None
    except Exception as error:  # the user's code broke: where, in one line
        raise ModelFileError(f"{path}: build() failed: {type(error).__name__}: {error} "
                             f"(at {_innermost_line(error, path)})") from error
    if not isinstance(built, Model):
        raise ModelFileError(f"{path}: build() returned {type(built).__name__}, not a graphc.Model")
    return built


def dataset(module, path, options: dict | None = None):
    """The model file's training data: ``dataset(**options)``."""
    if not callable(getattr(module, "dataset", None)):
        raise ModelFileError(f"{path} defines no dataset(**options) function, so there is nothing to train on")
    _check_accepts(module.dataset, options or {}, f"{path}: dataset()")
    data = module.dataset(**(options or {}))
    if not isinstance(data, Dataset):
        raise ModelFileError(f"{path}: dataset() returned {type(data).__name__}, not a graphc.data.Dataset")
    return data


def accepts(function, name: str) -> bool:
    parameters = inspect.signature(function).parameters
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _check_accepts(function, settings: dict, what: str) -> None:
    unknown = [name for name in settings if not accepts(function, name)]
    if unknown:
        known = [n for n, p in inspect.signature(function).parameters.items() if p.kind is not p.VAR_KEYWORD]
        raise ModelFileError(f"{what} takes no setting {', '.join(map(repr, unknown))}; it takes: "
                             f"{', '.join(known) or 'nothing'}")


def load(model: str, config: dict | None = None) -> Model:
    module, path = load_module(model)
    return build(module, path, config)


def _innermost_line(error: BaseException, path) -> str:
    """``file:line`` of the deepest frame of ``error``'s traceback in the model file (else the deepest of all)."""
    frames = list(traceback.extract_tb(error.__traceback__))
    inside = [f for f in frames if pathlib.Path(f.filename).resolve() == pathlib.Path(path).resolve()] or frames
    return f"{inside[-1].filename}:{inside[-1].lineno}" if inside else str(path)
