"""How pictures look: the colours and shapes of each kind of node, edge and cluster, in one place."""

FONT = "Helvetica"
STYLES = {
    "input": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "param": {"shape": "box", "style": "filled,bold", "fillcolor": "#fef3c7", "color": "#b45309"},
    "constant": {"shape": "plaintext", "fontcolor": "#6b7280"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#f3f4f6", "color": "#374151"},
    "backward-op": {"shape": "ellipse", "style": "filled", "fillcolor": "#fee2e2", "color": "#b91c1c"},
    "gradient": {"shape": "box", "style": "rounded,filled", "fillcolor": "#fee2e2", "color": "#b91c1c",
                 "fontcolor": "#7f1d1d"},
    "collapsed": {"shape": "box3d", "style": "filled", "fillcolor": "#e5e7eb", "color": "#4b5563"},
    "slot": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ede9fe", "color": "#6d28d9"},
}
OUTPUT = {"peripheries": "2"}
FORWARD_EDGE = {"color": "#4b5563", "fontcolor": "#6b7280"}
BACKWARD_EDGE = {"color": "#b91c1c", "fontcolor": "#b91c1c", "dir": "back"}
LINK_EDGE = {"style": "dashed", "color": "#f87171", "arrowhead": "none", "constraint": "false"}
# A loop's carry, back to its slot for the next step (forward) or on to the step before (its gradient): not a
# constraint on the layout, or the body would be drawn as a cycle.
RECURRENT_EDGE = {"style": "dashed", "color": "#7c3aed", "fontcolor": "#6d28d9", "constraint": "false"}
RECURRENT_GRADIENT_EDGE = {**BACKWARD_EDGE, "style": "dashed", "constraint": "false"}
SCOPE_CLUSTER = {"style": "rounded", "color": "#9ca3af", "fontcolor": "#4b5563"}
KERNEL_CLUSTER = {"style": "rounded,filled", "fillcolor": "#dcfce7", "color": "#15803d", "fontcolor": "#15803d"}
LOOP_CLUSTER = {"style": "rounded,dashed", "color": "#7c3aed", "fontcolor": "#6d28d9"}
