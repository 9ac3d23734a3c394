"""Training a model's parameters: the update rules (``rules``), learning-rate schedules (``schedules``), and the
compiled step that runs forward, backward, clipping and update in one native call (``step``). The initializers of
math.md are ``graphc.init`` (re-exported here as ``INITIALIZERS``)."""

from ..init import INITIALIZERS, init_params
from .rules import OPTIMIZERS, SGD, Adagrad, Adam, Optimizer, RMSprop, from_config
from .schedules import SCHEDULES, Constant, Cosine, ExponentialDecay, Schedule, StepDecay, Warmup, schedule_from_config
from .step import TrainingStep, compile_step
