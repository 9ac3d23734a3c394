"""The optimizer's pass order, written here and nowhere else, and ``optimize`` with its report.

    [cse -> fold -> simplify -> hoist] until nothing changes  ->  bodies  ->  dce  ->  fuse

CSE first puts commutative inputs in order so rules match one form (and merges a loop with its copy from
differentiation); folding and simplification feed each other (a rule can expose constants, folding can expose
rules); hoisting moves batchable work out of loops, which exposes more of the same. So they repeat to a fixed
point. ``bodies`` runs this whole pipeline over each loop body (so a step's element-wise work fuses into one kernel),
DCE drops what hoisting and the bodies' optimization left unread, and fusion comes last, over the final graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..ir import Graph, Node, remake
from ..loops import loop_like
from ..tensor import Tensor, node_of
from .cse import eliminate_common_subexpressions
from .dce import eliminate_dead_code
from .fold import fold_constants
from .fuse import fuse_elementwise
from .hoist import hoist_loop_work
from .rewrite import rebuild, rewrite
from .simplify import RULES

MAX_ROUNDS = 8


@dataclass
class Report:
    """Node counts by op before and after each pass, and how often each rewrite rule fired."""

    rows: list[tuple[str, dict[str, int], dict[str, int]]] = field(default_factory=list)
    fired: dict[str, int] = field(default_factory=dict)

    def record(self, name: str, before: Graph, after: Graph) -> None:
        self.rows.append((name, before.count_by_op(), after.count_by_op()))

    @property
    def before(self) -> dict[str, int]:
        return self.rows[0][1] if self.rows else {}

    @property
    def after(self) -> dict[str, int]:
        return self.rows[-1][2] if self.rows else {}

    def __str__(self) -> str:
        lines = [f"{'pass':10} {'nodes before':>12} {'after':>6}  changed ops"]
        for name, before, after in self.rows:
            changes = [f"{op} {before.get(op, 0)}->{after.get(op, 0)}" for op in sorted(set(before) | set(after))
                       if before.get(op, 0) != after.get(op, 0)]
            lines.append(f"{name:10} {sum(before.values()):12d} {sum(after.values()):6d}  {', '.join(changes)}")
        if self.fired:
            lines.append("rules fired: " + ", ".join(f"{k} x{v}" for k, v in sorted(self.fired.items())))
        return "\n".join(lines)


def optimize_graph(graph: Graph, *, unsafe_math: bool = False, fuse: bool = True) -> tuple[Graph, Report]:
    """Run the pipeline over ``graph``; returns the optimized graph and the report."""
    report = Report()
    rules = tuple(rule for rule in RULES if rule.exact or unsafe_math)

    def run(name, function, current):
        result = function(current)
        report.record(name, current, result)
        return result

    def simplify(current):
        result, fired = rewrite(current, rules)
        for rule, count in fired.items():
            report.fired[rule] = report.fired.get(rule, 0) + count
        return result

    for _ in range(MAX_ROUNDS):
        start = graph
        graph = run("cse", eliminate_common_subexpressions, graph)
        graph = run("fold", fold_constants, graph)
        graph = run("simplify", simplify, graph)
        graph = run("hoist", hoist_loop_work, graph)
        if graph == start:
            break
    graph = run("bodies", lambda current: _optimize_bodies(current, unsafe_math, fuse, report), graph)
    graph = run("dce", eliminate_dead_code, graph)
    if fuse:
        graph = run("fuse", fuse_elementwise, graph)
    return graph, report


def _optimize_bodies(graph: Graph, unsafe_math: bool, fuse: bool, report: Report) -> Graph:
    """Each loop with its body optimized by this pipeline (rules fired inside count in ``report``)."""
    def transform(node: Node, inputs: tuple[Node, ...]) -> Node:
        node = remake(node, inputs)
        if not node.op.nested:
            return node
        body = node.attr("body")
        optimized, inner = optimize_graph(body.graph, unsafe_math=unsafe_math, fuse=fuse)
        for rule, count in inner.fired.items():
            report.fired[rule] = report.fired.get(rule, 0) + count
        return loop_like(node, inputs, replace(body, outputs=optimized.outputs))

    return rebuild(graph, transform)


def optimize(outputs, *, report: bool = False, unsafe_math: bool = False, fuse: bool = True):
    """The optimized equivalents of ``outputs`` (a tensor or a list), and the report if ``report=True``.

    ``unsafe_math=True`` also applies rewrites that are exact only for finite values (``x*0 -> 0``).
    """
    single = not isinstance(outputs, (list, tuple))
    nodes = [node_of(o) for o in ([outputs] if single else outputs)]
    graph, log = optimize_graph(Graph(nodes), unsafe_math=unsafe_math, fuse=fuse)
    results = [Tensor(n) for n in graph.outputs]
    results = results[0] if single else results
    return (results, log) if report else results
