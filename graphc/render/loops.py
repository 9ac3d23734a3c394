"""A ``scan`` drawn as a cluster: its body once, with the carry's dashed recurrent edge from each new value back to
its slot, or unrolled for k steps, each step's carry feeding the next."""

from __future__ import annotations

from ..ir import Node
from .labels import node_label, shorten, type_text

LOOP_CLUSTER = {"style": "rounded,dashed", "color": "#7c3aed", "fontcolor": "#6d28d9"}
RECURRENT_EDGE = {"style": "dashed", "color": "#7c3aed", "fontcolor": "#6d28d9", "constraint": "false"}
SLOT_STYLE = {"shape": "box", "style": "rounded,filled", "fillcolor": "#ede9fe", "color": "#6d28d9"}


class Loop:
    """Where a loop's parts are drawn: ``header_id`` stands for the loop itself, ``result_id(i)`` for its results."""

    def __init__(self, node: Node, number: int, unroll: int = 0):
        self.node = node
        self.body = node.attr("body")
        self.number = number
        length = node.attr("length")
        self.copies = max(1, min(unroll, length) if isinstance(length, int) else unroll)
        self.unrolled = unroll > 0
        direction = "backwards " if node.attr("reverse") else ""
        self.label = f"loop {number}: scan {direction}over {length} steps"
        if self.unrolled:
            self.label += f" (first {self.copies} drawn)"
        self.header_id = f"loop{number}"
        # A captured value (a weight) is the same at every step: unrolled, it is drawn once, in the first step.
        captured = set(self.body.captures)
        self.ids = [{n: f"loop{number}_{0 if n in captured else copy}_{j}" for j, n in enumerate(self.body.graph.nodes)}
                    for copy in range(self.copies)]

    def result_id(self, index: int) -> str:
        return self.ids[-1][self.body.outputs[index]]

    def draw(self, canvas, ref, limit: int, styles: dict, forward_edge: dict) -> None:
        path = self.node.scope + (("loop", self.label, LOOP_CLUSTER),)
        canvas.node(self.header_id, f"scan\n{len(self.body.graph.nodes)} body nodes", SLOT_STYLE, path)
        k = len(self.body.carries)
        outer = dict(zip(self.body.slots, self.node.inputs))
        for copy, ids in enumerate(self.ids):
            step = f"t={copy}" if self.unrolled else "t"
            for member, member_id in ids.items():
                if copy > 0 and member_id == self.ids[0][member]:
                    continue  # drawn in the first step
                if member.op.placeholder:
                    canvas.node(member_id, self._slot_label(member, step, limit), SLOT_STYLE, path)
                else:
                    kind = "constant" if member.op.literal else "op"
                    canvas.node(member_id, node_label(member, limit), styles[kind], path)
            for member, member_id in ids.items():
                for child in member.inputs:
                    canvas.edge(ids[child], member_id, label=type_text(child), **forward_edge)
            for index, placeholder in enumerate(self.body.slots):
                if placeholder not in ids:
                    continue
                if index < k and copy > 0:  # the carry entering step t is what step t-1 computed
                    canvas.edge(self.ids[copy - 1][self.body.outputs[index]], ids[placeholder],
                                label="carry", **forward_edge)
                elif copy == 0 or ids[placeholder] != self.ids[0][placeholder]:
                    canvas.edge(ref(outer[placeholder]), ids[placeholder], label=type_text(outer[placeholder]),
                                **forward_edge)
        if not self.unrolled:
            for placeholder, new in zip(self.body.carries, self.body.outputs[:k]):
                if placeholder in self.ids[0]:
                    canvas.edge(self.ids[0][new], self.ids[0][placeholder], label="next step", **RECURRENT_EDGE)

    def _slot_label(self, placeholder: Node, step: str, limit: int) -> str:
        name = shorten(placeholder.attr("name"), limit)
        role = placeholder.attr("role")
        if role == "carry":
            return f"{name} (carry)"
        return f"{name}[{step}]" if role == "sequence" else f"{name} (captured)"
