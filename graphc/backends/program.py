"""The walk over a lowered program that both code generators share: every step in schedule order, then each
parameter's update written into the parameter's own array (by its kernel directly where that is safe)."""

from __future__ import annotations

from ..ir import Node
from .lower import Lowered


def preamble(lowered: Lowered) -> list[str]:
    """What the caller of a generated module reads: the feeds' order and the workspace's buffers."""
    return [f"FEEDS = {[n.attr('name') for n in lowered.feeds]!r}",
            f"WORKSPACE = {[(shape, dtype) for _, shape, dtype in lowered.workspace]!r}"]


def program(emitter, writes: dict[str, Node]) -> tuple[list[str], list[str]]:
    """Emit every step of the lowered program, then the parameter updates; returns the entry point's arguments
    and the names it returns.

    ``writes`` maps parameter names to their new values (a training step): each is written into the parameter's
    own array, by its kernel directly when every other reader of the parameter has run by then, else copied at
    the end.
    """
    lowered = emitter.lowered
    emitter.in_place = _in_place_updates(lowered, writes)
    for node in lowered.steps:
        emitter.node(node)
    for name, value in writes.items():
        if value not in emitter.in_place:
            emitter.emit(f"# {name} <- {emitter.name(value)} (in place, after every reader)")
            emitter.assign(lowered.names[_feed(lowered, name)], emitter.name(value))
    returned = [emitter.name(o) for o in lowered.graph.outputs if o not in writes.values()]
    arguments = ([lowered.names[n] for n in lowered.feeds] + [lowered.names[n] for n in lowered.constants]
                 + [name for name, _, _ in lowered.workspace] + ["seed"])
    return arguments, returned


def _feed(lowered: Lowered, name: str) -> Node:
    return next(n for n in lowered.feeds if n.attr("name") == name)


def _in_place_updates(lowered: Lowered, writes: dict) -> dict[Node, str]:
    """Updates whose kernel can write straight into the parameter's array: an element-wise kernel that runs after
    every other reader of the parameter. Such a kernel reads all its inputs at an element before writing any
    result there, and an update has its parameter's shape, so a kernel with several results (an optimizer's new
    parameter and new slots) can write each into its own array."""
    position = {node: index for index, node in enumerate(lowered.steps)}
    direct = {}
    for name, value in writes.items():
        kernel = value.inputs[0] if value.op.name == "item" else value
        if kernel not in position or not (kernel.op.elementwise or kernel.op.name == "fused"):
            continue
        param = _feed(lowered, name)
        readers = [n for n in lowered.graph.users[param] if n is not kernel]
        if all(position[r] < position[kernel] for r in readers):
            direct[value] = lowered.names[param]
    return direct
