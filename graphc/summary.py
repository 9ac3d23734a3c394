"""``summary(model)``: a table of a model's layers like Keras' ``model.summary()``: each layer's main ops, output
shapes and parameter count, and the totals; printed as text, drawn as an HTML table in Jupyter.

Layers are read off the graph, so any model has them: a layer is a name scope (``graphc.scope``, which every
``graphc.nn`` layer opens). A parameter belongs to the scope it was created in or, for layers that create their
parameters before opening their scope, to the layer its name is prefixed with (``lstm.l0.W`` -> ``lstm.l0``).
"""

from __future__ import annotations

import html

import numpy as np

from .types import format_shape


def summary(model) -> Summary:
    graph = model.graph
    nodes = graph.nodes
    layers: dict[str, list] = {}
    for node in nodes:
        if node.scope and not node.op.leaf:
            layers.setdefault(".".join(node.scope), []).append(node)
    counts = {layer: 0 for layer in layers}
    for p in model.params:
        layer = _layer_of(p, layers)
        counts[layer] = counts.get(layer, 0) + int(np.prod(p.shape, dtype=np.int64))
    users = graph.users
    results = {t.node for t in model.outputs.values()} | {model.loss.node}
    rows = [(f"input {name}", f"{t.dtype.name} input", format_shape(t.shape), "0") for name, t in model.inputs.items()]
    for layer in counts:
        members = layers.get(layer, [])
        inside = set(members)
        escaping = [n for n in members if n in results or any(u not in inside for u in users.get(n, ()))]
        shapes = [format_shape(n.type.shape) for n in escaping if not isinstance(n.type, tuple)]
        kinds = list(dict.fromkeys(n.op.name for n in members if not n.op.layout))
        rows.append((layer, ", ".join(kinds[:3]) + (", ..." if len(kinds) > 3 else ""), _shapes(shapes),
                     f"{counts[layer]:,}"))
    header = ("Layer", "Ops", "Output shape", "Parameters")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths[:3]) + f"  {{:>{widths[3]}}}"
    rule = "-" * (sum(widths) + 6)
    size = sum(int(np.prod(p.shape, dtype=np.int64)) * p.dtype.itemsize for p in model.params)
    total = f"Total parameters: {model.parameter_count():,} ({_bytes(size)})"
    text = "\n".join([f'Model "{model.name}"', rule, line.format(*header), rule, *(line.format(*row) for row in rows),
                      rule, total])
    return Summary(text, f'Model "{model.name}"', header, rows, total)


class Summary(str):
    """The summary's text (what ``print`` shows), which Jupyter draws as an HTML table."""

    def __new__(cls, text: str, title: str, header: tuple, rows: list, total: str):
        summary = super().__new__(cls, text)
        summary.title, summary.header, summary.rows, summary.total = title, header, rows, total
        return summary

    def _repr_html_(self) -> str:
        def cells(row, tag):
            return "".join(f"<{tag} style='text-align:{'right' if i == 3 else 'left'}'>{html.escape(c)}</{tag}>"
                           for i, c in enumerate(row))

        body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in self.rows)
        return (f"<table><caption>{html.escape(self.title)}</caption><thead><tr>{cells(self.header, 'th')}</tr>"
                f"</thead><tbody>{body}</tbody><tfoot><tr><td colspan='4'>{html.escape(self.total)}</td></tr></tfoot>"
                f"</table>")


def _layer_of(p, layers) -> str:
    if p.node.scope:
        return ".".join(p.node.scope)
    prefixes = [layer for layer in layers if p.name.startswith(layer + ".")]
    if prefixes:
        return max(prefixes, key=len)
    return p.name.rpartition(".")[0] or "(no layer)"


def _shapes(shapes: list[str]) -> str:
    """Distinct shapes in order of appearance, repeated ones counted: ``(time, batch, 8), (batch, 8) x2``."""
    counted = {shape: shapes.count(shape) for shape in dict.fromkeys(shapes)}
    return ", ".join(shape + (f" x{count}" if count > 1 else "") for shape, count in counted.items())


def _bytes(count: int) -> str:
    if count < 1024:
        return f"{count:,} bytes"
    return f"{count / 1024:.1f} KiB" if count < 1024 ** 2 else f"{count / 1024 ** 2:.1f} MiB"
