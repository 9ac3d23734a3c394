"""``DataParallelStep``: synchronous data-parallel training on Ray, a drop-in for ``TrainingStep``.

Each step splits the batch along the dimension named ``batch`` into one shard per worker. The parameters go out
once (one object in Ray's object store, read by every worker), each worker computes its shard's loss and
gradients (scaled by its share of the batch, so their sum is the whole batch's gradient of a mean loss), the
gradients are summed by a tree of tasks inside the cluster, and the driver applies them with the compiled update
of one process (``TrainingStep(None, ...)``: clipping, weight decay, the optimizer). Parameters live on the driver
and are sent every step, rather than updated on every worker, so that exactly one copy of the optimizer's state
exists and a checkpoint or a change in the number of workers needs nothing gathered but the carried state.
A recurrent net's carried state stays on the workers, each with its rows (``ShardedState``).
"""

from __future__ import annotations

import time

import numpy as np

from ..backends.compiled import to_host
from ..errors import GraphcError
from ..ir import Graph, feed_nodes
from ..optim import TrainingStep
from ..optim.step import GRADIENT
from ..types import dim_symbol
from .cluster import ClusterError, connect, disconnect, first_line, ray_module
from .worker import GradientWorker, add, places

BATCH = dim_symbol("batch")  # the named dimension a batch is split along


class ShardedState:
    """A carried state left on the workers, each holding its shard's rows: fed back at the next step it moves
    nothing; ``copy_to_host()`` gathers it (for a checkpoint, or to look at it)."""

    def __init__(self, step: DataParallelStep, name: str, version: int):
        self.step, self.name, self.version = step, name, version

    def copy_to_host(self) -> np.ndarray:
        ray = ray_module()
        parts = ray.get([worker.carried_state.remote(self.name) for worker in self.step.workers])
        return np.concatenate(parts, axis=self.step.axes[self.name])


class DataParallelStep:
    """``step(feeds)`` as ``TrainingStep``'s, over ``workers`` Ray actors (a local cluster when ``address`` is None).
    ``carried`` maps a state input to the index among ``outputs`` of the value that feeds it next; those outputs
    are returned as ``ShardedState``. Other outputs are scalars (averaged over the shards like the loss) or have
    the batch dimension (joined)."""

    def __init__(self, loss, params, optimizer=None, *, outputs=(), workers: int = 2, address: str | None = None,
                 carried: dict[str, int] | None = None, backend: str = "cpu", gradient_norms: bool = False,
                 keep_previous: bool = False):
        if workers < 1:
            raise GraphcError(f"the number of workers is a positive integer, not {workers}")
        self.params, self.outputs, self.carried = list(params), len(outputs), dict(carried or {})
        feeds = feed_nodes(Graph([loss.node, *[o.node for o in outputs]]))
        self.axes = {name: list(node.type.shape).index(BATCH) for name, node in feeds.items()
                     if BATCH in node.type.shape}
        if not self.axes:
            raise GraphcError("data-parallel training splits each batch along the dimension named 'batch'; none of "
                              f"the model's inputs ({', '.join(feeds) or 'none'}) has it")
        carried_outputs = set(self.carried.values())
        self.joined = {}  # output index -> the axis its shards are joined along (None: a scalar, averaged)
        for index, output in enumerate(outputs):
            if index in carried_outputs:
                continue
            if output.shape != () and BATCH not in output.shape:
                raise GraphcError(f"output {index} of a data-parallel step is {output.shape}: it must be a scalar "
                                  "(averaged over the workers) or have the 'batch' dimension (joined)")
            self.joined[index] = list(output.shape).index(BATCH) if output.shape != () else None
        self.update = TrainingStep(None, self.params, optimizer, backend=backend, gradient_norms=gradient_norms,
                                   keep_previous=keep_previous)
        self.places = places(self.params)  # where each gradient lies in the workers' buffers
        ray = ray_module()
        self.started = connect(address, workers)
        actor = ray.remote(num_cpus=1)(GradientWorker)
        nodes = [loss.node, *[o.node for o in outputs], *[p.node for p in self.params]]
        self.workers = [actor.remote(nodes, self.outputs, self.carried, backend) for _ in range(workers)]
        self.add = ray.remote(num_cpus=0)(add)  # the reduction's tasks need no CPU of their own: the actors hold them
        self.version = -1  # the step whose carried state the workers hold
        # seconds of the latest step: all of it, the slowest worker's computing, the driver's update
        self.last_timings: dict[str, float] = {}

    # --- what TrainingStep has ----------------------------------------------------------------------------------
    @property
    def steps_taken(self) -> int:
        return self.update.steps_taken

    @property
    def optimizer(self):
        return self.update.optimizer

    @property
    def last_gradient_norms(self) -> dict[str, float]:
        return self.update.last_gradient_norms

    def rollback(self) -> None:
        self.update.rollback()

    def synchronize(self) -> None:
        self.update.synchronize()

    def invalidate(self) -> None:
        self.update.invalidate()

    def state_dict(self) -> dict:
        return self.update.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.update.load_state_dict(state)

    # --- a step -------------------------------------------------------------------------------------------------
    def __call__(self, feeds: dict, seed: int | None = None):
        ray = ray_module()
        began = time.perf_counter()
        values = {p.name: feeds[p.name] for p in self.params}
        kept = [name for name in self.carried if self._kept(feeds.get(name))]
        split = {name: np.asarray(to_host(value)) for name, value in feeds.items()
                 if name in self.axes and name not in kept}
        sizes = {np.shape(value)[self.axes[name]] for name, value in split.items()}
        if len(sizes) != 1:  # every fed value with the batch dimension must agree on it (carried ones included)
            raise GraphcError(f"the feeds' batch sizes differ: {sorted(sizes)}")
        batch = sizes.pop()
        if batch < len(self.workers):
            raise GraphcError(f"a batch of {batch} cannot be split between {len(self.workers)} workers")
        bounds = np.linspace(0, batch, len(self.workers) + 1).round().astype(int)
        weights = (bounds[1:] - bounds[:-1]) / batch  # each shard's share of the batch
        parameters = ray.put(values)  # sent once, read by every worker
        calls = []
        for worker, start, stop, weight in zip(self.workers, bounds[:-1], bounds[1:], weights):
            rows = np.arange(start, stop)
            shard = {name: np.take(value, rows, axis=self.axes[name]) for name, value in split.items()}
            calls.append(worker.gradients.options(num_returns=2).remote(parameters, shard, float(weight), kept))
        summaries = [self._result(call[0], position) for position, call in enumerate(calls)]
        total = self._result(self._reduce([call[1] for call in calls]), None)
        gradients = {GRADIENT + p.name: total[buffer][start:stop].reshape(p.shape)
                     for p, (buffer, start, stop) in zip(self.params, self.places)}
        updating = time.perf_counter()
        self.update({**values, **gradients}, seed)
        self.version = self.steps_taken
        self.last_timings = {"step": time.perf_counter() - began, "workers": max(s[2] for s in summaries),
                             "update": time.perf_counter() - updating}
        loss = float(sum(w * s[0] for w, s in zip(weights, summaries)))
        if not self.outputs:
            return loss
        results = [None] * self.outputs
        for position, (index, axis) in enumerate(self.joined.items()):
            parts = [s[1][position] for s in summaries]
            results[index] = (sum(w * p for w, p in zip(weights, parts)) if axis is None
                              else np.concatenate(parts, axis=axis))
        for name, index in self.carried.items():
            results[index] = ShardedState(self, name, self.version)
        return [loss, *results]

    def _kept(self, value) -> bool:
        return isinstance(value, ShardedState) and value.step is self and value.version == self.version

    def _reduce(self, refs: list):
        """The sum of the workers' gradient buffers, as a tree of pairwise sums run inside the cluster."""
        while len(refs) > 1:
            refs = [self.add.remote(a, b) for a, b in zip(refs[0::2], refs[1::2])] + refs[len(refs) // 2 * 2:]
        return refs[0]

    def _result(self, ref, position: int | None):
        """``ray.get``, with a lost worker (or an error raised inside one) said in one line."""
        ray = ray_module()
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as error:
            if isinstance(error.cause, GraphcError):
                raise error.cause from None
            raise
        except ray.exceptions.RayActorError as error:
            who = f"worker {position + 1} of {len(self.workers)}" if position is not None else "a worker"
            raise ClusterError(f"{who} was lost at step {self.steps_taken + 1}: {first_line(error)}") from None

    def close(self) -> None:
        """Stop the workers, and the cluster when this step started it."""
        ray = ray_module()
        for worker in self.workers:
            ray.kill(worker)
        self.workers = []
        disconnect(self.started)
