"""``graphc train``, ``graphc generate`` and ``graphc demo``: training a model file on its data, sampling text from
a language model's checkpoint, and the end-to-end demo."""

from __future__ import annotations

import math
import pathlib

from .. import data, modelfile, nn, optim
from ..data import Vocabulary
from ..render import GraphvizMissing, render
from ..train import Trainer, language, plots
from ..train.checkpoint import CheckpointError, check_matches, load
from ..train.history import RECORD_KEYS
from ..train.trainer import significant
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
    train = command(commands, "train", run_train, "train a model file on its data, with checkpoints and plots",
                    "Train MODEL on the data its file's dataset() gives, writing a checkpoint and the loss curve to "
                    "--out.", model="optional", data=True,
                    epilog="Ctrl-C stops after the current step and writes the checkpoint; --resume CHECKPOINT "
                           "continues the run exactly where it stopped.")
    optimizer_options(train)
    group = train.add_argument_group("the run")
    group.add_argument("--epochs", type=positive_int, help="passes over the data (default 1, or as many as --steps "
                       "needs)")
    group.add_argument("--steps", type=positive_int, metavar="N", help="train N steps in all (with --epochs: stop at "
                       "whichever comes first)")
    group.add_argument("--minutes", type=positive_float, metavar="M", help="stop after M minutes")
    group.add_argument("--patience", type=positive_int, metavar="E",
                       help="early stopping: stop after E epochs without a better validation loss")
    group.add_argument("--seed", type=non_negative_int, default=0,
                       help="seeds initialization, shuffling and dropout (default 0)")
    group.add_argument("--out", metavar="DIR", help="where to write checkpoint.npz and the plots "
                       "(default runs/<model>, or beside the --resume checkpoint)")
    group.add_argument("--overwrite", action="store_true",
                       help="replace a checkpoint of another run that --out already holds")
    group.add_argument("--resume", metavar="CHECKPOINT", help="continue the run a checkpoint saved (MODEL and its "
                       "settings are read from the checkpoint when not given)")
    group.add_argument("--allow-nonfinite", action="store_true",
                       help="resume a checkpoint even if its parameters hold NaN or Inf")
    group.add_argument("--track-gradients", type=positive_int, metavar="N",
                       help="record every parameter's gradient norm every N steps and plot them")
    group.add_argument("--no-progress", action="store_true", help="no progress bar")
    backend_option(group)
    group.add_argument("--workers", type=positive_int, metavar="N",
                       help="train data-parallel on N Ray workers, each a shard of every batch (same results as one "
                            "process; needs graphc[distributed])")
    group.add_argument("--address", metavar="HOST:PORT",
                       help="with --workers: the Ray cluster to run on (default: a local one, started for the run)")

    generate = command(commands, "generate", run_generate, "sample text from a trained language model's checkpoint",
                       "Continue --prime with text sampled from the language model saved in CHECKPOINT.", model=False)
    generate.add_argument("checkpoint", metavar="CHECKPOINT")
    generate.add_argument("--model", dest="model_file", metavar="FILE",
                          help="the model file the checkpoint was trained from (a built-in model is found by the "
                               "name the checkpoint records)")
    generate.add_argument("--prime", default="The ", help="the text to continue (default 'The ')")
    generate.add_argument("--tokens", type=positive_int, default=200, help="at most this many tokens (default 200)")
    generate.add_argument("--temperature", type=positive_float, default=0.8, help="softmax temperature (0.8)")
    generate.add_argument("--top-k", type=positive_int, default=10, help="sample among the K likeliest (10)")
    generate.add_argument("--seed", type=non_negative_int, default=0)
    generate.add_argument("--allow-nonfinite", action="store_true",
                          help="sample even if the checkpoint's parameters hold NaN or Inf")
    backend_option(generate)

    demo = command(commands, "demo", run_demo, "train a small LSTM language model for a minute, end to end",
                   "Train a small character-level LSTM language model on the built-in corpus (CPython's "
                   "documentation) for about a minute, then print the validation perplexity and a generated sample, "
                   "and write the graph pictures, the loss curve and a checkpoint to --out.", model=False)
    demo.add_argument("--minutes", type=positive_float, default=1.0, help="training time (default 1)")
    demo.add_argument("--hidden", type=positive_int, default=128, help="LSTM width (default 128)")
    demo.add_argument("--out", default="graphc-demo", metavar="DIR", help="where to write (default graphc-demo)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    backend_option(demo)


def optimizer_options(parser) -> None:
    group = parser.add_argument_group("optimizer")
    group.add_argument("--optimizer", choices=tuple(optim.OPTIMIZERS), default="adam", help="(default adam)")
    group.add_argument("--lr", type=float, metavar="RATE", help="learning rate (default: the optimizer's: "
                       "sgd 0.1, adagrad and rmsprop 0.01, adam 0.001)")
    group.add_argument("--momentum", type=float, help="sgd and rmsprop momentum")
    group.add_argument("--nesterov", action="store_true", help="sgd: Nesterov momentum")
    group.add_argument("--weight-decay", type=float, help="L2 penalty added to the gradient")
    group.add_argument("--clip", type=positive_float, metavar="NORM", help="clip the global gradient norm")
    group.add_argument("--schedule", choices=("constant", "step", "exponential", "cosine"), default="constant",
                       help="learning-rate schedule (default constant; cosine: down to 0 over the run's steps)")
    group.add_argument("--gamma", type=float, default=0.5, help="decay factor of the step/exponential schedule")
    group.add_argument("--decay-every", type=positive_int, default=1000, metavar="STEPS",
                       help="steps between decays of the step schedule (default 1000)")
    group.add_argument("--warmup", type=positive_int, metavar="STEPS",
                       help="a linear warm-up from a tenth of the rate over STEPS steps, then the schedule")


def optimizer_from(arguments, total_steps: int) -> optim.Optimizer:
    """The optimizer the flags describe; ``total_steps``, the run's, is what a cosine schedule spans (after the
    warm-up)."""
    settings = {"name": arguments.optimizer, "lr": arguments.lr, "momentum": arguments.momentum,
                "weight_decay": arguments.weight_decay, "clip_norm": arguments.clip}
    settings = {k: v for k, v in settings.items() if v is not None}
    if arguments.nesterov:
        settings["nesterov"] = True
    if arguments.schedule == "step":
        settings["schedule"] = {"name": "step", "every": arguments.decay_every, "gamma": arguments.gamma}
    elif arguments.schedule == "exponential":
        settings["schedule"] = {"name": "exponential", "gamma": arguments.gamma}
    elif arguments.schedule == "cosine":
        settings["schedule"] = {"name": "cosine", "total": max(1, total_steps - (arguments.warmup or 0))}
    if arguments.warmup:
        settings["schedule"] = {"name": "warmup", "steps": arguments.warmup,
                                "then": settings.get("schedule", "constant")}
    return optim.from_config(settings)


def run_train(arguments) -> int:
    saved = load(arguments.resume, metadata_only=True).metadata if arguments.resume else None
    if saved is not None and arguments.model is None:
        arguments.model = recorded_model(saved, arguments.resume, "graphc train MODEL --resume CHECKPOINT")
    if arguments.model is None:
        raise UsageError("give MODEL (a built-in model's name, or the path of a model file), or --resume CHECKPOINT")
    data = saved["data"] if saved is not None and not data_settings(arguments) else None
    if saved is not None and not arguments.set:
        arguments.set = [f"{k}={v!r}" for k, v in saved["model"].get("build", {}).items()]
    model, path, config, dataset = load_model(arguments, data=data, needs_data=True)
    vocabulary = dataset.vocabulary.to_dict() if dataset.vocabulary else None
    if saved is not None and saved.get("vocabulary") != vocabulary:
        raise CheckpointError(f"{arguments.resume} was trained with another vocabulary than this data's")
    # The model is recorded by name when it is built in; a user's file only for information, never to be run.
    metadata = {"model": {"builtin_model": modelfile.builtin_name(path), "file": str(path), "build": config},
                "vocabulary": vocabulary,
                "data": data if data is not None else data_settings(arguments)}
    if arguments.address is not None and arguments.workers is None:
        raise UsageError("--address says where the workers run: give --workers N with it")
    options = {"progress": not arguments.no_progress, "backend": arguments.backend,
               "track_gradients": arguments.track_gradients or 0, "metadata": metadata,
               "workers": arguments.workers, "address": arguments.address}
    given = any(getattr(arguments, name) not in (None, False) for name in ("lr", "momentum", "weight_decay", "clip"))
    epochs = arguments.epochs or (math.ceil(arguments.steps / len(dataset.train)) if arguments.steps else 1)
    total_steps = min(arguments.steps or math.inf, epochs * len(dataset.train))
    if saved is not None:
        optimizer = optimizer_from(arguments, total_steps) if given else None
        trainer = Trainer.resume(arguments.resume, model, optimizer, arguments.allow_nonfinite, **options)
    else:
        trainer = Trainer(model, optimizer_from(arguments, total_steps), seed=arguments.seed, **options)
    # A resumed run writes beside the checkpoint it continues (not into runs/<model>, which may be another run's).
    resumed_in = pathlib.Path(arguments.resume).parent if arguments.resume else None
    out = pathlib.Path(arguments.out or resumed_in or pathlib.Path("runs") / model.name)
    refuse_to_replace(out / "checkpoint.npz", arguments)
    print(f"{model.name}: {model.parameter_count():,} parameters, {len(dataset.train)} batches per epoch, "
          f"{trainer.optimizer!r}")
    try:
        history = trainer.fit(dataset.train, dataset.validation, epochs=epochs, max_steps=arguments.steps,
                              max_seconds=arguments.minutes * 60 if arguments.minutes else None,
                              patience=arguments.patience, checkpoint=out / "checkpoint.npz")
    finally:  # the workers and a cluster started for them go, whatever ended the run (Ctrl-C twice included)
        trainer.close()
    report(history)
    written = [out / "checkpoint.npz", plots.loss_curve(history, out / "loss.png", model.name,
                                                        perplexity=dataset.train.unit == "tokens")]
    if history.gradient_norms:
        written.append(plots.gradient_norms(history, out / "gradient_norms.png"))
    print("wrote " + ", ".join(str(p) for p in written))
    return 130 if history.stopped == "interrupted" else 0


def refuse_to_replace(target: pathlib.Path, arguments) -> None:
    """A new run never overwrites another run's checkpoint unasked (resuming that checkpoint is fine)."""
    resumed = arguments.resume and pathlib.Path(arguments.resume).resolve() == target.resolve()
    if not target.exists() or resumed or arguments.overwrite:
        return
    try:
        losses = load(target, metadata_only=True).metadata.get("history", {}).get("losses", 0)
        steps = len(losses) if isinstance(losses, list) else losses  # a list in checkpoints older than the log
        held = f"a checkpoint of another run ({steps} steps)"
    except CheckpointError:
        held = "a file named checkpoint.npz"
    raise UsageError(f"{target.parent} already holds {held}; give --overwrite to replace it, --resume {target} to "
                     "continue it, or --out DIR to write elsewhere")


def report(history) -> None:
    last = history.epochs[-1] if history.epochs else {}
    shown = ", ".join(f"{k} {significant(v)}" for k, v in last.items() if k not in RECORD_KEYS and v is not None)
    tail = history.losses[-20:]
    epoch = f"epoch {last['epoch']}" + (" so far" if last.get("partial") else "") if last else ""
    print(f"stopped ({history.stopped}) after {len(history.losses)} steps; "
          f"last {len(tail)} steps' mean loss {significant(sum(tail) / max(len(tail), 1))}"
          + (f"; {epoch}: {shown}" if last else ""))


def recorded_model(metadata: dict, path, usage: str) -> str:
    """The built-in model a checkpoint names. A checkpoint of a user's model file only says which file it was: a
    checkpoint is data, and loading one never runs code it names (the user gives the file on the command line)."""
    spec = metadata.get("model", {})
    if spec.get("builtin_model"):
        return spec["builtin_model"]
    if spec.get("file"):
        raise UsageError(f"{path} was trained from the model file {spec['file']!r}, which graphc does not run on "
                         f"a checkpoint's word; give the file: {usage}")
    raise UsageError(f"{path} does not say which model it holds; give MODEL: {usage}")


def model_from_checkpoint(path, allow_nonfinite: bool = False, model_file: str | None = None):
    """The model a checkpoint was trained from (the built-in it names, ``model_file`` when given, or the demo's
    language model), its parameters and its vocabulary."""
    saved = load(path, allow_nonfinite=allow_nonfinite)
    spec = saved.metadata.get("model", {})
    if spec.get("builtin") == "language_model" and model_file is None:
        model = nn.language_model(**spec.get("build", {}))
    else:
        model_file = model_file or recorded_model(saved.metadata, path, "graphc generate CHECKPOINT --model FILE")
        model = modelfile.load(model_file, spec.get("build", {}))
    check_matches(saved, model, source=str(path))
    vocabulary = saved.metadata.get("vocabulary")
    return model, saved.params, Vocabulary(vocabulary["tokens"], vocabulary["level"]) if vocabulary else None


def run_generate(arguments) -> int:
    model, params, vocabulary = model_from_checkpoint(arguments.checkpoint, arguments.allow_nonfinite,
                                                      arguments.model_file)
    if "logits" not in model.outputs or not model.state:
        raise UsageError(f"{arguments.checkpoint} holds {model.name!r}, which is not a language model")
    if vocabulary is None:
        raise UsageError(f"{arguments.checkpoint} was saved without its vocabulary, so its token ids cannot be read "
                         "as text; a Trainer given metadata={'vocabulary': vocabulary.to_dict()} saves it")
    text = language.generate(model, params, vocabulary, arguments.prime, max_tokens=arguments.tokens,
                             temperature=arguments.temperature, top_k=arguments.top_k, seed=arguments.seed,
                             backend=arguments.backend)
    print(arguments.prime + text)
    return 0


def run_demo(arguments) -> int:
    out = pathlib.Path(arguments.out)
    dataset = data.language_dataset(seq_len=32, batch=32)
    build = {"kind": "lstm", "vocabulary": len(dataset.vocabulary), "embed": 32, "hidden": arguments.hidden}
    model = nn.language_model(**build)
    print(model.summary())
    print(f"training on {len(dataset.train.stream):,} characters of CPython's documentation for "
          f"{arguments.minutes:g} minute(s), after compiling the training step (5-10 s the first time)")
    trainer = Trainer(model, optim.Adam(0.003, clip_norm=1.0), progress=not arguments.no_progress,
                      backend=arguments.backend,
                      metadata={"model": {"builtin": "language_model", "build": build},
                                "vocabulary": dataset.vocabulary.to_dict()})
    history = trainer.fit(dataset.train, dataset.validation, epochs=1000, max_seconds=arguments.minutes * 60)
    last = history.epochs[-1] if history.epochs else {}
    if last.get("steps") == trainer.step.steps_taken:  # fit scored the parameters as they are now
        perplexity = last["validation_perplexity"]
    else:  # interrupted
        perplexity = trainer.evaluate(dataset.validation)["perplexity"]
    uniform = len(dataset.vocabulary)
    print(f"\nafter {len(history.losses)} steps: validation perplexity {perplexity:.2f} "
          f"(guessing uniformly: {uniform}; the first step's: {math.exp(history.losses[0]):.1f})")
    sample = language.generate(model, trainer.params, dataset.vocabulary, "The ", max_tokens=300, temperature=0.7,
                               top_k=10, seed=0, backend=arguments.backend)
    print(f"\na sample (temperature 0.7, top-10), primed with 'The ':\n\nThe {sample}\n")
    written = {"checkpoint": trainer.save(out / "checkpoint.npz"),
               "loss curve": plots.loss_curve(history, out / "loss.png", model.name, perplexity=True)}
    try:
        render(model, path=out / "forward.svg")
        written["forward graph"] = out / "forward.svg"
        render(model, backward=True, path=out / "backward.svg")
        written["backward graph (the chain rule)"] = out / "backward.svg"
    except GraphvizMissing as error:
        print(f"(no graph pictures: {error})")
    for what, path in written.items():
        print(f"{what + ':':34} {path}")
    print(f"\nmore text: graphc generate {out / 'checkpoint.npz'} --prime 'In Python '")
    return 0

