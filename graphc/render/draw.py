"""Turning a graph into a ``graphviz.Digraph``: forward values flow left to right; in the chain-rule view each value
v gets a gradient node dL/dv in red, linked to v by a dashed edge, and gradients flow back along red edges labelled
with the local derivative (upstream x local = downstream).

Name scopes become clusters and can be collapsed into one box; fused kernels become green clusters of their member
ops; a node budget collapses the largest scopes first so big graphs stay legible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import graphviz

from ..errors import GraphcError
from ..ir import Graph, Node
from .labels import derivative_label, node_label, short_name, shorten, summary, type_text
from .loops import Loop
from .styles import (
    BACKWARD_EDGE,
    FONT,
    FORWARD_EDGE,
    KERNEL_CLUSTER,
    LINK_EDGE,
    OUTPUT,
    SCOPE_CLUSTER,
    STYLES,
)


@dataclass
class Cluster:
    label: str
    style: dict
    items: list = field(default_factory=list)  # ("node", id, attrs) entries
    children: dict = field(default_factory=dict)


@dataclass
class Picture:
    """What to draw; ``values`` and ``gradient_values`` turn on annotated mode."""

    outputs: list[Node]
    backward: object = None  # autodiff.Backward for the chain-rule view
    backward_nodes: frozenset = frozenset()  # nodes drawn in the backward colour (an optimized joint graph)
    values: dict | None = None
    gradient_values: dict | None = None
    edge_values: dict | None = None
    collapse: tuple[str, ...] = ()
    max_nodes: int = 150
    max_label: int = 32
    title: str | None = None
    unroll: int = 0  # draw each loop's first k steps instead of its body once


def draw(picture: Picture) -> graphviz.Digraph:
    graph = Graph(picture.outputs)
    collapse = _within_budget(graph, picture)
    canvas = _Canvas(picture.title)
    ids = {node: f"n{index}" for index, node in enumerate(graph.nodes)}

    def collapsed_scope(node: Node):
        for prefix in collapse:
            if node.scope[: len(prefix)] == prefix:
                return prefix
        return None

    # A kernel or loop inside a collapsed scope is part of the scope's box, drawn like any other node of it.
    kernels = {node: kernel for node, kernel in _kernels(graph).items() if not collapsed_scope(node)}
    numbered = enumerate((n for n in graph.nodes if n.op.nested), start=1)
    loops = {node: Loop(node, number, picture.unroll) for number, node in numbered if not collapsed_scope(node)}

    clusters = {**kernels, **loops}

    def drawn_by_cluster(node: Node) -> bool:
        """A result of a fused kernel or a loop: drawn as the member of the cluster that computes it."""
        return node.op.projection and node.inputs[0] in clusters

    def refs(node: Node) -> list[str]:
        """Where ``node`` is drawn: one id, or one per step for a loop's stacked output when unrolled."""
        if node.op.projection and node.inputs[0] in kernels:
            return [kernels[node.inputs[0]].result_ids[node.attr("index")]]
        if node.op.projection and node.inputs[0] in loops:
            return loops[node.inputs[0]].result_ids(node.attr("index"))
        if node in loops:
            return [loops[node].header_id]
        prefix = collapsed_scope(node)
        return ["scope_" + "_".join(prefix) if prefix else ids[node]]

    def ref(node: Node) -> str:
        return refs(node)[-1]

    outputs = set(picture.outputs)
    for prefix in collapse:
        canvas.node("scope_" + "_".join(prefix), f"{'/'.join(prefix)}\n(collapsed)", STYLES["collapsed"], prefix[:-1])
    for node in graph.nodes:
        if drawn_by_cluster(node) or collapsed_scope(node):
            continue
        if node in kernels:
            kernels[node].draw(canvas, ref, picture.max_label)
            continue
        if node in loops:
            loops[node].draw(canvas, refs, picture.max_label)
            continue
        kind = node.op.name if node.op.leaf and not node.op.placeholder else "op"  # input, param, constant
        if kind == "op" and node in picture.backward_nodes:
            kind = "backward-op"
        label = node_label(node, picture.max_label)
        if picture.values is not None and node in picture.values and kind != "constant":
            label += "\n" + summary(picture.values[node])
        style = {**STYLES[kind], **(OUTPUT if node in outputs else {})}
        canvas.node(ids[node], label, style, node.scope, tooltip=node.location)

    drawn_edges: set[tuple[str, str]] = set()
    for node in graph.nodes:
        if node in kernels or node in loops or drawn_by_cluster(node):
            continue
        for child in node.inputs:
            tails = refs(child)
            for step, tail in enumerate(tails):
                pair = (tail, ref(node))
                if pair[0] != pair[1] and pair not in drawn_edges:
                    drawn_edges.add(pair)
                    text = type_text(child) if len(tails) == 1 else f"[t={step}]"
                    canvas.edge(*pair, label=text, **FORWARD_EDGE)

    if picture.backward is not None:
        _draw_chain_rule(canvas, picture, refs, loops, drawn_by_cluster)
    return canvas.finish()


def _draw_chain_rule(canvas, picture: Picture, refs, loops: dict, drawn_by_cluster) -> None:
    """dL/dv for every value v, linked to v; upstream x local = downstream along the red edges. A loop draws its
    own: its body's gradients at each step (backpropagation through time) stand for the loop's results."""
    backward = picture.backward
    gradient_ids: dict[Node, list[str]] = {}
    for node in backward.gradients:
        if node.op.differentiable or node.op.leaf:  # otherwise gradients stop here: nothing to show
            gradient_ids[node] = ["grad_" + target for target in refs(node)]
    for node, loop in loops.items():
        if node in backward.gradients:
            reached = {n.attr("index") for n in backward.gradients if n.op.projection and n.inputs[0] is node}
            loop.draw_chain_rule(canvas, loop.chain_rule(reached), lambda v: gradient_ids.get(v, []),
                                 picture.max_label)
    for node, places in gradient_ids.items():
        gid = places[-1]
        if gid in canvas.seen or node in loops or drawn_by_cluster(node):
            continue
        target = refs(node)[-1]
        name = target[len("scope_"):] if target.startswith("scope_") else short_name(node, picture.max_label)
        label = f"∂L/∂{shorten(name, picture.max_label)}"
        if picture.gradient_values is not None and node in picture.gradient_values:
            label += "\n" + summary(picture.gradient_values[node])
        canvas.node(gid, label, STYLES["gradient"], node.scope if not target.startswith("scope_") else ())
        canvas.edge(gid, target, **LINK_EDGE)
    for user, position, source, _ in backward.edges:
        if source not in gradient_ids or user not in gradient_ids or user in loops or drawn_by_cluster(user):
            continue  # a loop's inputs and results get their gradients from the loop's own drawing
        head = gradient_ids[user][-1]
        label = derivative_label(user, position, picture.max_label)
        if picture.edge_values is not None:
            label += f"\n= {summary(picture.edge_values[(user, position)])}"
        for tail in gradient_ids[source]:
            if tail != head:
                canvas.edge(tail, head, label=shorten(label, 3 * picture.max_label), **BACKWARD_EDGE)


class _Kernel:
    """A fused node drawn as a cluster of the element-wise ops it replaced."""

    def __init__(self, node: Node, number: int):
        self.node = node
        self.members = node.attr("members")
        self.member_ids = {m: f"k{number}_{j}" for j, m in enumerate(self.members)}
        self.result_ids = [self.member_ids[r] for r in node.attr("results")]
        self.label = f"fused kernel {number}: {len(self.members)} ops"
        external: list[Node] = []
        for member in self.members:
            for child in member.inputs:
                if child not in self.member_ids and not _scalar_constant(child) and child not in external:
                    external.append(child)
        self.sources = dict(zip(external, node.inputs))

    def draw(self, canvas, ref, limit: int) -> None:
        path = self.node.scope + (("kernel", self.label),)
        for member, member_id in self.member_ids.items():
            canvas.node(member_id, node_label(member, limit), STYLES["op"], path)
        for member, member_id in self.member_ids.items():
            for child in member.inputs:
                if child in self.member_ids:
                    canvas.edge(self.member_ids[child], member_id, **FORWARD_EDGE)
                elif child in self.sources:
                    canvas.edge(ref(self.sources[child]), member_id, label=type_text(child), **FORWARD_EDGE)


def _scalar_constant(node: Node) -> bool:
    return node.op.literal and node.type.shape == ()


def _kernels(graph: Graph) -> dict[Node, _Kernel]:
    fused = [node for node in graph.nodes if node.op.kernel]
    return {node: _Kernel(node, number) for number, node in enumerate(fused, start=1)}


def _within_budget(graph: Graph, picture: Picture) -> tuple[tuple[str, ...], ...]:
    """The scopes to collapse: those asked for, then the largest top-level scopes until the picture fits."""
    collapse = [tuple(s.split("/")) for s in picture.collapse]
    scopes = {n.scope[:depth] for n in graph.nodes for depth in range(1, len(n.scope) + 1)}
    for wanted in collapse:
        if wanted not in scopes:
            known = ", ".join(sorted("/".join(s) for s in scopes)) or "none"
            raise GraphcError(f"no scope {'/'.join(wanted)!r} to collapse; the picture's scopes: {known}")
    multiplier = 2 if picture.backward is not None else 1

    def visible() -> int:
        return sum(1 for n in graph.nodes if not any(n.scope[: len(p)] == p for p in collapse)) + len(collapse)

    sizes: dict[tuple[str, ...], int] = {}
    for node in graph.nodes:
        if node.scope:
            sizes[node.scope[:1]] = sizes.get(node.scope[:1], 0) + 1
    for scope, _ in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        if visible() * multiplier <= picture.max_nodes:
            break
        if scope not in collapse:
            collapse.append(scope)
    return tuple(collapse)


class _Canvas:
    """Collects nodes into nested clusters (scopes, kernels), then writes them out in a deterministic order."""

    def __init__(self, title: str | None):
        self.root = Cluster("", {})
        self.edges: list[tuple[str, str, dict]] = []
        self.seen: set[str] = set()
        self.title = title

    def node(self, node_id: str, label: str, style: dict, path: tuple = (), **extra) -> None:
        self.seen.add(node_id)
        cluster = self.root
        for part in path:
            key, label_text, cluster_style = ((part + (KERNEL_CLUSTER,))[:3] if isinstance(part, tuple)
                                              else (part, part, SCOPE_CLUSTER))
            cluster = cluster.children.setdefault(key + ":" + label_text, Cluster(label_text, cluster_style))
        cluster.items.append((node_id, {"label": label, **style, **extra}))

    def edge(self, tail: str, head: str, **attrs) -> None:
        self.edges.append((tail, head, attrs))

    def finish(self) -> graphviz.Digraph:
        graph_attr = {"rankdir": "LR", "fontname": FONT, "nodesep": "0.3", "ranksep": "0.3"}
        if self.title:
            graph_attr.update(label=dot_text(self.title), labelloc="t", fontsize="14")
        dot = graphviz.Digraph(graph_attr=graph_attr, node_attr={"fontname": FONT, "fontsize": "11"},
                               edge_attr={"fontname": FONT, "fontsize": "9"})
        counter = iter(range(1_000_000))

        def emit(target, cluster: Cluster) -> None:
            for node_id, attrs in cluster.items:
                target.node(node_id, **escaped(attrs))
            for child in cluster.children.values():
                with target.subgraph(name=f"cluster_{next(counter)}") as sub:
                    sub.attr(label=dot_text(child.label), **child.style)
                    emit(sub, child)

        emit(dot, self.root)
        for tail, head, attrs in self.edges:
            dot.edge(tail, head, **escaped(attrs))
        return dot


def dot_text(text: str) -> str:
    """A user's text (a name, a scope, a path) as a DOT string: graphviz quotes it, but a backslash in it would
    be read as an escape (a name ending in one would swallow the closing quote), so backslashes are doubled."""
    return text.replace("\\", "\\\\")


def escaped(attrs: dict) -> dict:
    """Attributes with their text escaped (``dot_text``); styles are graphc's own and left alone."""
    return {key: dot_text(value) if key in ("label", "tooltip", "xlabel") and isinstance(value, str) else value
            for key, value in attrs.items()}
