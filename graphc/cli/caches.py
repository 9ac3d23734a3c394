"""``graphc cache``: where compiled code is kept, clearing it, and precompiling the runtime's kernels.

``--precompile`` compiles the runtime's kernels for this machine once (setup runs it), so that a user's first model
compiles only its own code. Which kernels, at which signatures (dtype, rank, layout), is whatever the built-in
models call: each is trained one step on a few examples of its data and evaluated, as ``graphc train`` would (a
language model's generation runs the evaluator that validation compiled); a model file without data, on random
inputs. The runtime's machine code stays with the package (``backends/runtime/jit.py``), whatever
``NUMBA_CACHE_DIR`` says, and these programs beside it, so that precompiling again takes seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import numba

from .. import modelfile, optim
from ..backends.compiled import cache
from ..backends.runtime import jit
from ..train import Trainer
from .inspection import sample_feeds
from .options import load_model

EXAMPLES = {"batch": 4, "seq_len": 8}  # enough to run every op once: sizes are arguments of the compiled code


def add_commands(commands) -> None:
    kernels = commands.add_parser("cache", help="where compiled kernels are cached (GRAPHC_CACHE_DIR); --clear, "
                                                "--precompile")
    kernels.add_argument("--clear", action="store_true", help="delete every cached module")
    kernels.add_argument("--precompile", action="store_true",
                         help="compile the runtime's kernels for this machine (setup does), so that a new model "
                              "compiles only its own code")
    kernels.set_defaults(run=manage_cache)


def manage_cache(arguments) -> int:
    """Show where compiled kernels are cached, clear them, or precompile the runtime's."""
    if arguments.precompile:
        precompile()
    elif arguments.clear:
        print(f"removed {cache.clear()} cached modules from {cache.directory()}")
    else:
        print(cache.directory())
    return 0


@contextlib.contextmanager
def program_caches():
    """graphc's and Numba's caches of generated programs beside the runtime's machine code while inside (a second
    precompile loads every program instead of compiling it); yields where the runtime's machine code goes."""
    saved = os.environ.get("GRAPHC_CACHE_DIR"), numba.config.CACHE_DIR
    kernels = jit.runtime_cache_directory(jit.__file__)
    folder = os.path.join(kernels, "programs")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:  # a package installed read-only: its kernels go to Numba's user-wide cache, these to the user's
        folder, kernels = str(cache.directory() / "precompiled"), "Numba's user-wide cache"
    os.environ["GRAPHC_CACHE_DIR"] = folder
    numba.config.CACHE_DIR = os.path.join(folder, "numba")
    try:
        yield kernels
    finally:
        if saved[0] is None:
            os.environ.pop("GRAPHC_CACHE_DIR", None)
        else:
            os.environ["GRAPHC_CACHE_DIR"] = saved[0]
        numba.config.CACHE_DIR = saved[1]


def exercise(name: str) -> None:
    """Train the built-in model ``name`` one step on a few examples and evaluate it."""
    module, _ = modelfile.load_module(name)
    optimizer = optim.Adam(1e-3, clip_norm=1.0)
    if not callable(getattr(module, "dataset", None)):
        model, feeds, _ = sample_feeds(argparse.Namespace(model=name, set=[], seed=0), small=True)
        optim.compile_step(model.loss, model.params, optimizer=optimizer)(feeds)
        model.evaluate(feeds)
        return
    examples = {setting: size for setting, size in EXAMPLES.items() if modelfile.accepts(module.dataset, setting)}
    model, _, _, dataset = load_model(argparse.Namespace(model=name, set=[]), data=examples)
    trainer = Trainer(model, optimizer, progress=False)
    trainer.fit(dataset.train, max_steps=1)
    if dataset.validation is not None:
        trainer.evaluate(dataset.validation)


def precompile(names=None, report=print) -> float:
    """Compile the runtime's kernels for the built-in models ``names`` (default: all), loading those already
    compiled; the seconds it took."""
    started = time.perf_counter()
    with program_caches() as kernels:
        for name in names or modelfile.builtin_models():
            begun = time.perf_counter()
            exercise(name)
            report(f"  {name:16} {time.perf_counter() - begun:6.1f} s")
    seconds = time.perf_counter() - started
    report(f"the runtime's kernels are compiled for this machine, in {kernels} ({seconds:.0f} s)")
    return seconds
