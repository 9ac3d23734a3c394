"""``item``: one result of a node with several (a fused kernel, a loop), so every other node stays single-valued."""

from __future__ import annotations

from .registry import Op, apply, register


@register
class Item(Op):
    """Result ``index`` of a node with several results."""

    name = "item"
    projection = True
    view = True
    layout = True
    derivative_text = ("g into result slot",)
    internal = True

    def infer(self, types, index):
        return types[0][index]

    def reference(self, values, index):
        return values[index]

    def vjp(self, inputs, out, grad, index):
        return [(index, grad)]  # autodiff accumulates this into slot ``index`` of the tuple's gradient


def item(node, index: int):
    return apply("item", node, index=index)
