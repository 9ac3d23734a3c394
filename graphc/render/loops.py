"""A ``scan`` drawn as a cluster: its body once, with the carry's dashed recurrent edge from each new value back to
its slot, or unrolled for k steps, each step's carry feeding the next. In the chain-rule view the body's own
gradients are drawn at every step, and the carry's gradient passes from step t back to step t-1: backpropagation
through time, as the loop's derivative computes it."""

from __future__ import annotations

from ..autodiff import Backward, sweep
from ..ir import Node
from ..loops.body import new_tag, slot
from ..types import is_float
from .labels import derivative_label, node_label, short_name, shorten, type_text
from .styles import (
    BACKWARD_EDGE,
    FORWARD_EDGE,
    LINK_EDGE,
    LOOP_CLUSTER,
    RECURRENT_EDGE,
    RECURRENT_GRADIENT_EDGE,
    STYLES,
)


class Loop:
    """Where a loop's parts are drawn: ``header_id`` stands for the loop itself, ``result_ids(i)`` for its results."""

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
        self.path = node.scope + (("loop", self.label, LOOP_CLUSTER),)
        self.outer = dict(zip(self.body.slots, node.inputs))
        # A captured value (a weight) is the same at every step: unrolled, it is drawn once, in the first step.
        captured = set(self.body.captures)
        self.ids = [{n: f"loop{number}_{0 if n in captured else copy}_{j}" for j, n in enumerate(self.body.graph.nodes)}
                    for copy in range(self.copies)]

    def result_ids(self, index: int) -> list[str]:
        """Where result ``index`` is drawn: a final carry in the last step drawn; a stacked per-step output in every
        step drawn (each step's slice of it)."""
        output = self.body.outputs[index]
        if index < len(self.body.carries) or not self.unrolled:
            return [self.ids[-1][output]]
        return [ids[output] for ids in self.ids]

    def step(self, copy: int) -> str:
        return f"t={copy}" if self.unrolled else "t"

    def draw(self, canvas, refs, limit: int) -> None:
        canvas.node(self.header_id, f"scan\n{len(self.body.graph.nodes)} body nodes", STYLES["slot"], self.path)
        k = len(self.body.carries)
        for copy, ids in enumerate(self.ids):
            for member, member_id in ids.items():
                if copy > 0 and member_id == self.ids[0][member]:
                    continue  # drawn in the first step
                if member.op.placeholder:
                    canvas.node(member_id, self._slot_label(member, self.step(copy), limit), STYLES["slot"], self.path)
                else:
                    kind = "constant" if member.op.literal else "op"
                    canvas.node(member_id, node_label(member, limit), STYLES[kind], self.path)
            for member, member_id in ids.items():
                for child in member.inputs:
                    canvas.edge(ids[child], member_id, label=type_text(child), **FORWARD_EDGE)
            for index, placeholder in enumerate(self.body.slots):
                if placeholder not in ids:
                    continue
                if index < k and copy > 0:  # the carry entering step t is what step t-1 computed
                    canvas.edge(self.ids[copy - 1][self.body.outputs[index]], ids[placeholder],
                                label="carry", **FORWARD_EDGE)
                elif copy == 0 or ids[placeholder] != self.ids[0][placeholder]:
                    source = self.outer[placeholder]
                    canvas.edge(self._matching(refs(source), copy), ids[placeholder], label=type_text(source),
                                **FORWARD_EDGE)
        if not self.unrolled:
            for placeholder, new in zip(self.body.carries, self.body.outputs[:k]):
                if placeholder in self.ids[0]:
                    canvas.edge(self.ids[0][new], self.ids[0][placeholder], label="next step", **RECURRENT_EDGE)

    def chain_rule(self, reached: set[int]) -> Backward:
        """The reverse sweep over the body, as the loop's derivative runs it: seeded at each new carry (its
        gradient comes from the next step) and at each per-step output whose index is in ``reached`` (the loss
        depends on it), each with a placeholder standing for the upstream gradient."""
        tag, k = new_tag(), len(self.body.carries)
        seeds = [(output, slot(f"upstream{index}", output.type, "sequence", index, tag))
                 for index, output in enumerate(self.body.outputs)
                 if (index < k or index in reached) and is_float(output.type.dtype)]
        return sweep(seeds, {s for s in self.body.slots if is_float(s.type.dtype)})

    def draw_chain_rule(self, canvas, body: Backward, outer_ids, limit: int) -> None:
        """dL/dv for each body value at each step drawn, with the body's chain rule inside every step; the carry's
        gradient passes from each step back to the one before, a captured weight's gradient is one node summed
        over the steps, and ``outer_ids(value)`` says where an outside value's gradient is drawn (a list)."""
        drawn = [m for m in self.body.graph.nodes if m in body.gradients and (m.op.differentiable or m.op.leaf)]

        def gradient(copy: int, member: Node) -> str:
            return "grad_" + self.ids[copy][member]

        for copy in range(self.copies):
            for member in drawn:
                if gradient(copy, member) not in canvas.seen:
                    canvas.node(gradient(copy, member), self._gradient_label(member, copy, limit), STYLES["gradient"],
                                self.path)
                    canvas.edge(gradient(copy, member), self.ids[copy][member], **LINK_EDGE)
            for user, position, source, _ in body.edges:
                if source in drawn and user in drawn:
                    canvas.edge(gradient(copy, source), gradient(copy, user),
                                label=shorten(derivative_label(user, position, limit), 3 * limit), **BACKWARD_EDGE)
        k = len(self.body.carries)
        for placeholder, new in zip(self.body.carries, self.body.outputs[:k]):
            if placeholder not in drawn or new not in drawn:
                continue
            for copy in range(1, self.copies):  # dL/d(carry into step t) is dL/d(what step t-1 computed)
                canvas.edge(gradient(copy - 1, new), gradient(copy, placeholder), label="carry", **BACKWARD_EDGE)
            if not self.unrolled:
                canvas.edge(gradient(0, new), gradient(0, placeholder), label="to step t−1", **RECURRENT_GRADIENT_EDGE)
        for placeholder in self.body.slots:
            sources = outer_ids(self.outer[placeholder])
            if placeholder not in drawn or not sources:
                continue
            role = placeholder.attr("role")
            if role == "sequence":
                for copy in range(self.copies):
                    canvas.edge(self._matching(sources, copy), gradient(copy, placeholder),
                                label=f"[{self.step(copy)}]", **BACKWARD_EDGE)
            else:
                text = "initial carry" if role == "carry" else "Σ over steps"
                canvas.edge(sources[-1], gradient(0, placeholder), label=text, **BACKWARD_EDGE)

    def _matching(self, ids: list[str], copy: int) -> str:
        """Of an outside value drawn once per step (another unrolled loop's output), the part for this step."""
        return ids[copy] if len(ids) == self.copies else ids[-1]

    def _slot_label(self, placeholder: Node, step: str, limit: int) -> str:
        name = shorten(placeholder.attr("name"), limit)
        role = placeholder.attr("role")
        if role == "carry":
            return f"{name} (carry)"
        return f"{name}[{step}]" if role == "sequence" else f"{name} (captured)"

    def _gradient_label(self, member: Node, copy: int, limit: int) -> str:
        if not member.op.placeholder:
            return f"∂L/∂{short_name(member, limit)}" + (f" [{self.step(copy)}]" if self.unrolled else "")
        name, role = shorten(member.attr("name"), limit), member.attr("role")
        if role == "capture":
            return f"∂L/∂{name} (all steps)"
        if role == "carry":
            return f"∂L/∂{name} (carry)" + (f" [{self.step(copy)}]" if self.unrolled else "")
        return f"∂L/∂{name}[{self.step(copy)}]"
