"""Pictures of graphs with Graphviz: ``render`` (forward, chain-rule backward, annotated values, raw or optimized
stage), writing SVG/PNG/PDF, and the inline display of tensors, models and graphs in Jupyter (installed on
``Tensor`` and ``Graph`` here, since they sit below this layer)."""

from __future__ import annotations

import pathlib

import graphviz

from ..autodiff import backward as reverse_sweep
from ..autodiff import grad, variables
from ..backends.reference import evaluate
from ..errors import GraphcError
from ..files import atomic_write
from ..ir import Graph, topological_order
from ..passes import optimize
from ..tensor import Tensor
from .draw import Picture, draw

MAX_UNROLL = 32  # steps an unrolled loop may draw
SLIDE = (13.33, 7.5)  # inches: a 16:9 slide, what pictures are scaled down to fit unless told otherwise
DIRECTIONS = ("auto", "LR", "TB")
SLIDE_DPI = "144"  # a slide-sized PNG at 1920 x 1080 pixels

INSTALL_HINT = ("install Graphviz's 'dot' program: 'sudo apt-get install graphviz' (Debian/Ubuntu), "
                "'brew install graphviz' (macOS), 'conda install graphviz', or see https://graphviz.org/download/")
FORMATS = ("svg", "png", "pdf")


class GraphvizMissing(GraphcError):
    """Graphviz's ``dot`` program is needed to turn DOT source into an image, and it is not installed."""


def _forward_outputs(outputs) -> tuple[list, str | None]:
    if callable(getattr(outputs, "tensors", None)):  # a Model: its loss and outputs, titled with its name
        return outputs.tensors(), outputs.name
    if isinstance(outputs, Graph):
        return [Tensor(n) for n in outputs.outputs], None
    if isinstance(outputs, Tensor):
        return [outputs], None
    return list(outputs), None


def render(outputs, *, backward: bool = False, stage: str = "raw", feeds: dict | None = None, path=None,
           collapse=(), max_nodes: int = 150, max_label: int = 32, title: str | None = None,
           unroll: int = 0, size=SLIDE, direction: str = "auto", wrt=None) -> graphviz.Digraph:
    """Draw ``outputs`` (a tensor, a list, a ``Model`` or a ``Graph``) and return the ``graphviz.Digraph``.

    ``backward=True`` adds the chain rule: a gradient node dL/dv for every value v of the first output (the loss),
    linked to v, with gradients flowing back along edges labelled by local derivatives, from the loss to ``wrt``
    (tensors; default every input and parameter it depends on). ``stage="optimized"`` draws
    the optimized graph (forward and, with ``backward``, gradients together) with fused kernels as clusters.
    ``feeds`` annotates every value (and every gradient) with what it evaluates to. ``collapse`` lists scopes
    ("encoder" or "encoder/layer1") drawn as one box; scopes are also collapsed, largest first, while the picture
    has more than ``max_nodes`` nodes. A loop (``scan``) is a cluster with its body drawn once and a dashed edge
    from each new carry back to its slot; ``unroll=k`` draws its first k steps instead. With ``backward`` a loop
    holds its body's gradients, the carry's passing from each step to the one before (backpropagation through
    time; values are shown outside loops). ``path`` writes the
    picture (.svg, .png, .pdf, or .gv for DOT source). ``size`` (width, height in inches; default a 16:9 slide) is
    the most the picture takes: Graphviz scales a larger one down (``None``: its natural size). ``direction`` lays
    values out left to right ("LR") or top to bottom ("TB"); "auto" takes the one that needs less shrinking.
    """
    if direction not in DIRECTIONS:
        raise GraphcError(f"direction is one of {', '.join(DIRECTIONS)}, not {direction!r}")
    if size is not None and not (len(size) == 2 and all(isinstance(v, (int, float)) and v > 0 for v in size)):
        raise GraphcError(f"size is (width, height) in inches, both positive, or None for the natural size; not "
                          f"{size!r}")
    if stage not in ("raw", "optimized"):
        raise ValueError(f"stage must be 'raw' or 'optimized', not {stage!r}")
    if not 0 <= unroll <= MAX_UNROLL:
        raise GraphcError(f"unroll draws that many copies of each loop's body: 0 to {MAX_UNROLL}, not {unroll} (a "
                          "picture of more steps is unreadable; the loop's length does not change)")
    forward, name = _forward_outputs(outputs)
    picture = Picture(outputs=[t.node for t in forward], collapse=tuple(collapse), max_nodes=max_nodes,
                      max_label=max_label, title=title or name, unroll=unroll)
    if stage == "raw":
        if backward:
            picture.backward = reverse_sweep(forward[0], wrt)
        if feeds is not None:
            picture.values = _values(picture.outputs, feeds, evaluate)
            if backward:
                gradients = [(node, gradient) for node, gradient in picture.backward.gradients.items()
                             if isinstance(gradient, Tensor)]  # not a loop's tuple: its results have their own
                computed = evaluate([g for _, g in gradients], feeds)
                picture.gradient_values = {node: value for (node, _), value in zip(gradients, computed)}
                flows = evaluate([contribution for *_, contribution in picture.backward.edges], feeds)
                picture.edge_values = {(user, position): value
                                       for (user, position, _, _), value in zip(picture.backward.edges, flows)}
    else:
        joint = list(forward)
        if backward:
            joint += grad(forward[0], [Tensor(n) for n in variables(forward[0])] if wrt is None else wrt)
        optimized = optimize(joint)
        picture.outputs = [t.node for t in optimized]
        if backward:
            forward_nodes = set(topological_order(picture.outputs[: len(forward)]))
            picture.backward_nodes = frozenset(n for n in topological_order(picture.outputs) if n not in forward_nodes)
        if feeds is not None:
            picture.values = _values(picture.outputs, feeds, evaluate)
    digraph = fit(draw(picture), size, direction)
    if path is not None:
        write(digraph, path)
    return digraph


def fit(digraph: graphviz.Digraph, size, direction: str) -> graphviz.Digraph:
    """The picture scaled down to ``size`` and laid out in ``direction``; "auto" lays it out both ways with Graphviz
    and keeps top to bottom only when that shrinks it clearly less (left to right without Graphviz)."""
    if size is not None:
        digraph.graph_attr["size"] = f"{size[0]:g},{size[1]:g}"
    if direction == "auto" and size is not None:
        try:
            wide, tall = (_scale(digraph, way, size) for way in ("LR", "TB"))
        except graphviz.ExecutableNotFound:
            wide, tall = 1.0, 1.0
        direction = "TB" if tall > 1.1 * wide else "LR"
    digraph.graph_attr["rankdir"] = "LR" if direction == "auto" else direction
    return digraph


def _scale(digraph: graphviz.Digraph, direction: str, size) -> float:
    """How much Graphviz would shrink the picture laid out in ``direction`` to fit ``size`` (1: not at all)."""
    trial = digraph.copy()
    trial.graph_attr.pop("size", None)
    trial.graph_attr["rankdir"] = direction
    _, _, width, height = trial.pipe(format="plain").split(b"\n", 1)[0].split()[:4]  # graph scale width height
    return min(size[0] / float(width), size[1] / float(height), 1.0)


def _values(outputs, feeds, evaluate) -> dict:
    nodes = [n for n in topological_order(outputs) if not isinstance(n.type, tuple)]
    return dict(zip(nodes, evaluate([Tensor(n) for n in nodes], feeds)))


def write(digraph: graphviz.Digraph, path) -> pathlib.Path:
    """Write the picture as the file's suffix says, atomically. Without Graphviz, the DOT source is kept beside
    the path (.gv) and GraphvizMissing says how to install it."""
    path = pathlib.Path(path)
    suffix = path.suffix.lstrip(".").lower()
    if suffix in ("gv", "dot"):
        return atomic_write(path, digraph.source.encode())
    if suffix not in FORMATS:
        raise GraphcError(f"cannot write {path}: use .svg, .png, .pdf, or .gv for DOT source")
    image = digraph
    if suffix == "png" and "size" in digraph.graph_attr:
        image = digraph.copy()
        image.graph_attr["dpi"] = SLIDE_DPI
    try:
        data = image.pipe(format=suffix)
    except graphviz.ExecutableNotFound:
        source = path.with_suffix(".gv")
        atomic_write(source, digraph.source.encode())
        raise GraphvizMissing(f"cannot draw {path}: Graphviz is not installed; the DOT source is in {source}. "
                              f"To draw pictures, {INSTALL_HINT}") from None
    return atomic_write(path, data)


def mimebundle(outputs, text: str) -> dict:
    """Jupyter's rich display: the picture as SVG when Graphviz is installed, always the text."""
    bundle = {"text/plain": text}
    try:
        bundle["image/svg+xml"] = render(outputs).pipe(format="svg").decode()
    except graphviz.ExecutableNotFound:
        pass
    return bundle


# Tensors and graphs sit below this layer, so it installs their inline display in Jupyter (a model has its own).
Tensor._repr_mimebundle_ = lambda self, include=None, exclude=None: mimebundle(self, repr(self))
Graph._repr_mimebundle_ = lambda self, include=None, exclude=None: mimebundle(self, repr(self))
