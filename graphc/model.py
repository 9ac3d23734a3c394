"""``Model``: what a model file's ``build(**config)`` returns: named inputs, parameters, outputs and the loss."""

from __future__ import annotations

from dataclasses import dataclass, field

from .backends.compiled import Compiled, compile
from .errors import ShapeError, user_location
from .ir import Graph, topological_order
from .passes import for_evaluation
from .render import mimebundle
from .summary import summary
from .tensor import Tensor
from .types import format_shape


@dataclass
class Model:
    """A model as graphs: ``inputs`` and ``outputs`` by name, the scalar ``loss``, and its ``params`` (found from the
    loss and outputs when not given). ``state`` maps an input to the output that feeds it at the next call (a
    recurrent net's final state is the next window's initial state)."""

    name: str
    inputs: dict[str, Tensor]
    outputs: dict[str, Tensor]
    loss: Tensor
    params: list[Tensor] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    # Compiled evaluators by backend, shared by the trainer's validation, perplexity and generation.
    compiled: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.loss, Tensor) or self.loss.shape != ():
            shape = format_shape(self.loss.shape) if isinstance(self.loss, Tensor) else type(self.loss).__name__
            raise ShapeError(f"model {self.name!r}: the loss must be a scalar tensor, got {shape}; reduce it "
                             "(graphc.sum, .mean()) or use reduction='mean'", user_location())
        if not self.params:
            roots = [self.loss.node] + [t.node for t in self.outputs.values()]
            self.params = [Tensor(n) for n in topological_order(roots) if n.op.trainable]

    @property
    def graph(self) -> Graph:
        return Graph([self.loss.node] + [t.node for t in self.outputs.values()])

    def _repr_mimebundle_(self, include=None, exclude=None):
        return mimebundle(self, f"<Model {self.name}: {len(self.params)} parameters>")

    def tensors(self) -> list[Tensor]:
        """The loss, then the named outputs: what pictures of the model draw."""
        return [self.loss, *self.outputs.values()]

    def evaluator(self, backend: str = "cpu") -> Compiled:
        """The loss and every named output, compiled once per backend: ``evaluator(feeds)`` returns
        ``[loss, *outputs.values()]``, without dropout (``passes.for_evaluation``). Named dimensions are arguments
        of the compiled code, so one evaluator serves validation batches, perplexity windows and one-token generation
        steps alike."""
        if backend not in self.compiled:  # as evaluation runs it: dropout left out
            graph = for_evaluation(Graph([t.node for t in self.tensors()]))
            self.compiled[backend] = compile([Tensor(n) for n in graph.outputs], backend=backend)
        return self.compiled[backend]

    def evaluate(self, feeds: dict, backend: str = "cpu") -> dict:
        """{"loss": ..., output name: ...} for one batch, through ``evaluator``."""
        loss, *values = self.evaluator(backend)(feeds)
        return {"loss": loss, **dict(zip(self.outputs, values))}

    def summary(self) -> str:
        """A table of layers, output shapes and parameter counts (``print(model.summary())``)."""
        return summary(self)

    def parameter_count(self) -> int:
        total = 0
        for p in self.params:
            count = 1
            for d in p.shape:
                count *= d
            total += count
        return total
