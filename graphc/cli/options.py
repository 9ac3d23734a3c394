"""What the commands share: the options that name a model and its data, the optimizer flags, and configuration
files (JSON or TOML) whose keys are the long option names."""

from __future__ import annotations

import argparse
import json
import pathlib
import tomllib

from .. import modelfile
from ..backends.compiled import BACKENDS
from ..errors import GraphcError


class UsageError(GraphcError):
    """A bad option or configuration value."""


def command(commands, name: str, run, summary: str, description: str, *, model: bool | str = True,
            data: bool = False, **extra) -> argparse.ArgumentParser:
    """A subcommand reading ``--config``; with ``model`` (``"optional"`` for a MODEL that may be left out) it takes
    MODEL and ``--set``, with ``data`` the options passed to the model file's ``dataset()``."""
    parser = commands.add_parser(name, help=summary, description=description, **extra)
    if model:
        model_options(parser, required=model is True)
    if data:
        data_options(parser)
    config_option(parser)
    parser.set_defaults(run=run)
    return parser


def model_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("model", metavar="MODEL", nargs=None if required else "?",
                        help="a built-in model's name (graphc models lists them) or the path of a model file (a .py "
                             "file defining build(**config), such as ./my_model.py)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", default=[],
                        help="a build() setting, such as hidden=64 (repeatable)")


def data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data (passed to the model file's dataset())")
    group.add_argument("--data", metavar="PATH", help="a text file to train on (default: the built-in corpus)")
    group.add_argument("--batch", type=positive_int, metavar="N", help="examples (or stream lanes) per batch")
    group.add_argument("--seq-len", type=positive_int, metavar="T", help="time steps per window")
    group.add_argument("--split", type=fraction, metavar="FRACTION",
                       help="the part of the data held out for validation (default 0.1: of the documents, or of the "
                            "lines of a text without blank-line breaks)")


def config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="read options from a JSON or TOML file (keys are the long "
                        "option names; flags given on the command line win)")


def given_on_command_line(parser: argparse.ArgumentParser, argv: list[str], arguments) -> set[str]:
    """The options (by destination) that ``argv`` gives, whatever their values: a flag that happens to equal its
    default was still given, and beats the configuration file."""
    given = set()
    for token in argv:
        action = parser._option_string_actions.get(token.split("=", 1)[0]) if token.startswith("-") else None
        if action is not None:
            given.add(action.dest)
    if getattr(arguments, "model", None) is not None:
        given.add("model")
    return given


def apply_config_file(parser: argparse.ArgumentParser, arguments: argparse.Namespace, given: set[str]) -> None:
    """Fill every option not ``given`` on the command line from ``--config FILE``, each value checked as its flag
    is (a ``steps = -4`` in a file is refused as ``--steps -4`` is)."""
    path = getattr(arguments, "config", None)
    if not path:
        return
    file = pathlib.Path(path)
    if not file.is_file():
        raise UsageError(f"no configuration file {path!r}")
    try:
        text = file.read_text(encoding="utf-8")
        settings = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not valid {'TOML' if file.suffix == '.toml' else 'JSON'}: {error}") from None
    if not isinstance(settings, dict):
        raise UsageError(f"{path} must hold a table of option names and values")
    actions = {action.dest: action for action in parser._actions}
    for key, value in settings.items():
        name = key.replace("-", "_")
        if name in ("config", "command", "run", "help") or name not in actions:
            raise UsageError(f"{path}: unknown option {key!r}")
        if name == "set":
            if not isinstance(value, dict):
                raise UsageError(f"{path}: set must be a table of build settings, not {value!r}")
            named = {item.partition("=")[0] for item in arguments.set}
            arguments.set = [f"{k}={v!r}" for k, v in value.items() if k not in named] + arguments.set
            continue
        value = _checked(actions[name], value, f"{path}: {key} = {value!r}")
        if name not in given:
            setattr(arguments, name, value)


def _checked(action: argparse.Action, value, where: str):
    """A configuration file's value, converted and checked by its option's own type and choices."""
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        if not isinstance(value, bool):
            raise UsageError(f"{where}: must be true or false")
        return value
    if isinstance(value, (dict, list, bool)):
        raise UsageError(f"{where}: must be a {'number' if action.type in (int, float) else 'value'}")
    if action.type is not None:
        try:
            value = action.type(str(value))
        except (argparse.ArgumentTypeError, ValueError, TypeError) as error:
            raise UsageError(f"{where}: {error}") from None
    if action.choices is not None and value not in action.choices:
        raise UsageError(f"{where}: must be one of {', '.join(map(str, action.choices))}")
    return value


def backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default="cpu",
                        help="cpu (Numba), or cuda (numba-cuda on an NVIDIA GPU; pip install 'graphc[cuda]')")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {text}")
    return value


def fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def load_model(arguments, extra: dict | None = None, data: dict | None = None, needs_data: bool = False):
    """(model, module path, build config, dataset or None) from MODEL, --set and the data options. One rule for
    every verb: a model file with a ``dataset()`` is built for its data (the vocabulary's size and the classes
    come from the data), so ``summary`` and ``render`` show the model ``train`` trains. ``needs_data``: a file
    without ``dataset()`` is an error."""
    module, path = modelfile.load_module(arguments.model)
    config = modelfile.parse_config(arguments.set)
    dataset = None
    if needs_data or callable(getattr(module, "dataset", None)):
        data = dict(data if data is not None else data_settings(arguments))
        if callable(getattr(module, "dataset", None)):  # build settings the data depends on (the layer sizes)
            data.update({k: v for k, v in config.items() if k not in data and modelfile.accepts(module.dataset, k)})
        dataset = modelfile.dataset(module, path, data)
        config = {**config, **dataset.config}  # the data decides the vocabulary's size and the classes
    config.update(extra or {})
    return modelfile.build(module, path, config), path, config, dataset


def data_settings(arguments) -> dict:
    """The data options given, under the names ``dataset()`` takes (``--data`` is its ``path``)."""
    settings = {"path": getattr(arguments, "data", None), "batch": getattr(arguments, "batch", None),
                "seq_len": getattr(arguments, "seq_len", None), "split": getattr(arguments, "split", None)}
    return {name: value for name, value in settings.items() if value is not None}
