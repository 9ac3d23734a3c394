"""``graphc render``, ``summary``, ``check``, ``bench`` and ``ops``: looking at a model file without
training it."""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from .. import modelfile
from ..autodiff import grad
from ..backends.reference import evaluate
from ..gradcheck import check_grad
from ..init import init_params
from ..ops import OPS
from ..optim import compile_step
from ..render import DIRECTIONS, SLIDE, render
from .options import (
    UsageError,
    backend_option,
    command,
    data_settings,
    load_model,
    non_negative_int,
    positive_float,
    positive_int,
)


def add_commands(commands) -> None:
    draw = command(commands, "render", render_model, "draw a model's graph with Graphviz",
                   "Draw the graph of MODEL (a built-in model's name, or a model file's path) to FILE (.svg, .png, "
                   ".pdf, or .gv for DOT source).", data=True)
    draw.add_argument("-o", "--output", metavar="FILE", default="graph.svg", help="where to write (default graph.svg)")
    draw.add_argument("--backward", action="store_true", help="also draw the gradients (the chain rule)")
    draw.add_argument("--stage", choices=("raw", "optimized"), default="raw", help="the graph as built or optimized")
    draw.add_argument("--collapse", action="append", metavar="SCOPE", help="draw this name scope as one box")
    draw.add_argument("--max-nodes", type=positive_int, default=150, help="collapse scopes beyond this many nodes")
    draw.add_argument("--unroll", type=non_negative_int, default=0, metavar="K",
                      help="draw each loop's first K steps instead of its body once")
    draw.add_argument("--values", action="store_true",
                      help="show what every value (and with --backward every gradient) is on a batch of the model's "
                           "data, or on random inputs when its file defines no dataset()")
    draw.add_argument("--input-gradients", action="store_true",
                      help="with --backward, also draw the gradients of data inputs and targets, not only of "
                           "parameters")
    draw.add_argument("--size", type=picture_size, default=SLIDE, metavar="W,H",
                      help="the most the picture takes, in inches (default a 16:9 slide, 13.33,7.5), or 'natural'")
    draw.add_argument("--direction", choices=DIRECTIONS, default="auto",
                      help="values flow left to right (LR) or top to bottom (TB); auto: whichever fits the size "
                           "better")
    command(commands, "summary", summarize, "a model's layers, output shapes and parameter counts",
            "Print MODEL's layers, their output shapes and parameter counts.", data=True)
    check = command(commands, "check", check_gradients, "check a model's gradients against finite differences",
                    "Compare the gradient of MODEL's loss with respect to every parameter with central finite "
                    "differences, in float64, on a batch of its data (or random inputs when its file defines no "
                    "dataset()).", data=True)
    check.add_argument("--tolerance", type=positive_float, default=1e-6, help="largest relative error allowed (1e-6)")
    check.add_argument("--seed", type=non_negative_int, default=0)
    bench = command(commands, "bench", benchmark, "time a model's compiled training step",
                    "Time MODEL's compiled training step (forward, backward and SGD update in one native call) on a "
                    "batch of its data, against graphc's own NumPy interpreter. For PyTorch and JAX in the same run: "
                    "make bench.", data=True)
    bench.add_argument("--steps", type=positive_int, default=20, help="timed steps (default 20)")
    backend_option(bench)
    ops = commands.add_parser("ops", help="list the op table")
    ops.set_defaults(run=list_ops)
    models = commands.add_parser("models", help="list the built-in models (MODEL may be any of these names)")
    models.set_defaults(run=list_models)


def picture_size(text: str):
    """``W,H`` as a pair of numbers, or None for 'natural'; render() says if they are not both positive."""
    if text == "natural":
        return None
    try:
        width, height = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"is WIDTH,HEIGHT in inches (as 13.33,7.5) or 'natural', not {text}") from None
    return width, height


def render_model(arguments) -> int:
    if arguments.values:
        model, feeds, _ = sample_feeds(arguments, small=True)
    else:
        (model, *_), feeds = load_model(arguments), None
    render(model, backward=arguments.backward, stage=arguments.stage, path=arguments.output, feeds=feeds,
           collapse=arguments.collapse or (), max_nodes=arguments.max_nodes, unroll=arguments.unroll,
           size=arguments.size, direction=arguments.direction,
           wrt=None if arguments.input_gradients else model.params)
    print(f"wrote {arguments.output}")
    return 0


def summarize(arguments) -> int:
    model, *_ = load_model(arguments)
    print(model.summary())
    return 0


def sample_feeds(arguments, small: bool) -> tuple:
    """(model, feeds, units) on the first training batch of the model's data (small ones for a gradient check), or
    random inputs; state inputs are random too, so gradients flow through real values."""

    module, _ = modelfile.load_module(arguments.model)
    rng = np.random.default_rng(arguments.seed if hasattr(arguments, "seed") else 0)
    batch, units, data = {}, 0, None
    if callable(getattr(module, "dataset", None)):
        data = data_settings(arguments)
        if small:
            for name, size in (("batch", 4), ("seq_len", 8)):
                if modelfile.accepts(module.dataset, name):
                    data.setdefault(name, size)
    model, _, _, dataset = load_model(arguments, data=data)
    if dataset is not None:
        batch = next(iter(dataset.train.batches(0, 0)))
        units = dataset.train.units(batch)
    feeds = {**init_params(model.params, getattr(arguments, "seed", 0)), **batch}
    for name, tensor in model.inputs.items():
        if name in feeds:
            continue
        if tensor.dtype.kind != "f":
            raise UsageError(f"{model.name}: input {name!r} is {tensor.dtype} and the model file defines no dataset() "
                             "to take it from")
        shape = [d if isinstance(d, int) else 4 for d in tensor.shape]  # named dimensions bound to 4
        feeds[name] = (0.5 * rng.normal(size=shape)).astype(tensor.dtype)
    return model, feeds, units


def check_gradients(arguments) -> int:
    model, feeds, _ = sample_feeds(arguments, small=True)
    print(f"{model.name}: the gradient of the loss against central finite differences (float64)")
    failed = 0
    for p in model.params:
        error = check_grad(model.loss, [p], feeds, seed=arguments.seed)
        ok = error <= arguments.tolerance
        failed += not ok
        print(f"  {p.name:32} {str(tuple(p.shape)):16} relative error {error:.1e}  {'ok' if ok else 'FAILED'}")
    print(f"{len(model.params) - failed} of {len(model.params)} parameters within {arguments.tolerance:g}")
    return 1 if failed else 0


def benchmark(arguments) -> int:
    model, feeds, units = sample_feeds(arguments, small=False)
    step = compile_step(model.loss, model.params, lr=1e-3, backend=arguments.backend)
    started = time.perf_counter()
    step(feeds)
    first = time.perf_counter() - started
    times = []
    for _ in range(arguments.steps):
        started = time.perf_counter()
        step(feeds)
        times.append(time.perf_counter() - started)
    compiled = statistics.median(times)
    gradients = grad(model.loss, model.params)
    started = time.perf_counter()
    evaluate([model.loss, *gradients], feeds)
    interpreted = time.perf_counter() - started
    rate = f", {units / compiled:,.0f} {'units'} per second" if units else ""
    print(f"{model.name}: {model.parameter_count():,} parameters, one batch of {units or 'random'} units")
    print(f"  first step (compile, or load from the cache): {first:.2f} s")
    print(f"  compiled step ({arguments.backend}): {compiled * 1e3:.3f} ms median of {arguments.steps}{rate}")
    print(f"  NumPy interpreter (forward and gradients, no update): {interpreted * 1e3:.1f} ms "
          f"({interpreted / compiled:.0f}x the compiled step)")
    return 0


def list_ops(arguments) -> int:
    """Print the op table: name, kind and flags."""
    for name, op in OPS.items():
        kind = "leaf" if op.leaf else "element-wise" if op.elementwise else "structured"
        flags = [flag for flag in ("commutative", "random", "stable_at_extremes") if getattr(op, flag)]
        if not op.differentiable:
            flags.append("no gradient")
        print(f"{name:22} {kind:13} {', '.join(flags)}")
    return 0


def list_models(arguments) -> int:
    """Print the built-in models: name and what each is."""
    for name, summary in modelfile.builtin_models().items():
        print(f"{name:16} {summary}")
    print(f"(files in {modelfile.BUILTIN}; a model of your own is given as a path, such as ./my_model.py)")
    return 0
