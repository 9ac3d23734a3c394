"""The rewrite rules, as data: algebraic simplifications and numerical-stability rewrites.

Each rule's algebra is in its comment. Rules marked ``exact=False`` change results for NaN or Inf inputs and run
only with ``unsafe_math=True``. The engine (``rewrite.py``) applies a rule only when the result keeps the node's
exact type.
"""

from __future__ import annotations

from ..ops import concat, constant, matmul, pick, reshape, transpose
from ..ops.arithmetic import Add
from ..ops.reduce import axes_size
from ..ops.registry import apply
from ..ops.shape import broadcast_like, reshape_like
from ..ops.slicing import Concat, PadSlice
from ..tensor import Tensor
from .rewrite import Rule, Var, constant_value

X, Y, Z, C = Var("x"), Var("y"), Var("z"), Var("c")
AXIS, AXES, KEEP, SHAPE, INNER, OUTER = (Var(n) for n in ("axis", "axes", "keepdims", "shape", "inner", "outer"))

SCALAR_A, SCALAR_B = (Var(n, lambda node: node.op.literal and node.type.shape == ()) for n in "ab")

# Values known to be positive (an op's own fact, or a positive constant), for rules that are exact only there.
POSITIVE = Var("positive", lambda node: node.op.positive or (constant_value(node) or 0) > 0)


def _last_axis(bound) -> bool:
    return bound["axes"] == (len(bound["z"].shape) - 1,) and not bound["keepdims"]


def _composed_transpose(bound, node):
    """transpose(transpose(x, inner), outer) is one transpose by inner[outer], or none if that is the identity."""
    return transpose(bound["x"], tuple(bound["inner"][a] for a in bound["outer"]))


def _reshape_once(bound, node):
    return reshape_like(bound["x"], node)


def _is_broadcast_scalar_constant(node) -> bool:
    return node.op.broadcast and node.inputs[0].op.literal and node.inputs[0].type.shape == ()


def _sum_of_broadcast_constant(bound, node):
    """The sum of all n elements of a broadcast constant c is c * n (n from the broadcast's shape)."""
    if node.shape != ():
        raise ValueError("only full reductions")
    broadcast = bound["broadcast"]
    value = constant(constant_value(broadcast.node), node.dtype)
    return value * axes_size(broadcast, tuple(range(broadcast.ndim)))


def _zeros_like(bound, node):
    return broadcast_like(constant(0.0, node.dtype), node)


def _ones_like(bound, node):
    return broadcast_like(constant(1.0, node.dtype), node)


def _absorb_broadcast(bound, node):
    """An element-wise op broadcasts anyway: feed it un-broadcast values, one input at a time while its result
    keeps its type (at least one operand must still carry the full shape)."""
    inputs = list(node.node.inputs)
    attrs = node.node.attributes
    for position, value in enumerate(inputs):
        if value.op.broadcast:
            candidate = inputs[:position] + [value.inputs[0]] + inputs[position + 1:]
            if apply(node.op, *candidate, **attrs).node.type == node.node.type:
                inputs = candidate
    return apply(node.op, *inputs, **attrs)


def _has_broadcast_input(node) -> bool:
    return node.op.elementwise and any(i.op.broadcast for i in node.inputs)


ALGEBRA = (
    Rule("mul-one", ("mul", X, 1), X),  # x * 1 = x
    Rule("add-zero", ("add", X, 0), X),  # x + 0 = x
    Rule("sub-zero", ("sub", X, 0), X),  # x - 0 = x
    Rule("div-one", ("div", X, 1), X),  # x / 1 = x
    Rule("neg-neg", ("neg", ("neg", X)), X),  # -(-x) = x
    Rule("zero-sub", ("sub", 0, X), ("neg", X)),  # 0 - x = -x
    Rule("mul-minus-one", ("mul", X, -1), ("neg", X)),  # x * (-1) = -x
    Rule("add-neg", ("add", X, ("neg", Y)), ("sub", X, Y)),  # x + (-y) = x - y
    Rule("sub-neg", ("sub", X, ("neg", Y)), ("add", X, Y)),  # x - (-y) = x + y
    Rule("neg-neg-product", ("mul", ("neg", X), ("neg", Y)), ("mul", X, Y)),  # (-x)(-y) = xy
    Rule("neg-sub", ("neg", ("sub", X, Y)), ("sub", Y, X)),  # -(x - y) = y - x
    Rule("neg-sum", ("neg", ("sum", X, {"axes": AXES, "keepdims": KEEP})),
         ("sum", ("neg", X), {"axes": AXES, "keepdims": KEEP})),  # -sum(x) = sum(-x): negation moves inward
    Rule("neg-div", ("neg", ("div", X, Y)), ("div", ("neg", X), Y)),  # -(x/y) = (-x)/y
    Rule("add-constants", ("add", ("add", X, SCALAR_A), SCALAR_B), ("add", X, ("add", Var("a"), Var("b")))),
    # (x + a) + b = x + (a + b) for constants a, b, which folding then adds (rounding may differ in the last bit)
    Rule("mul-constants", ("mul", ("mul", X, SCALAR_A), SCALAR_B), ("mul", X, ("mul", Var("a"), Var("b")))),
    # (x a) b = x (a b), likewise
    Rule("transpose-transpose", ("transpose", ("transpose", X, {"axes": INNER}), {"axes": OUTER}),
         _composed_transpose),  # (x^T)^T = x; in general, two permutations compose into one
    Rule("reshape-reshape", ("reshape", ("reshape", X), {"shape": SHAPE}), _reshape_once),  # reshaping twice = once
    Rule("reshape-like-reshape", ("reshape_like", ("reshape", X), Y), _reshape_once),  # likewise
    Rule("exp-log", ("exp", ("log", POSITIVE)), Var("positive")),  # e^(ln x) = x, for x > 0 only
    Rule("sqrt-square", ("sqrt", ("mul", X, X)), ("abs", X)),  # sqrt(x^2) = |x|
    Rule("sum-broadcast-constant", ("sum", Var("broadcast", _is_broadcast_scalar_constant)),
         _sum_of_broadcast_constant),  # sum_i c = c * n
    Rule("sum-one-hot", ("sum", ("mul", ("one_hot", Y, {"depth": Var("depth")}), Z),
                         {"axes": AXES, "keepdims": KEEP}),
         lambda b, node: pick(b["z"], b["y"]), when=_last_axis),  # sum_k onehot(y)_k z_k = z_y
    Rule("broadcast-absorbed", Var("node", _has_broadcast_input), _absorb_broadcast),  # f(bcast(x), y) = f(x, y)
)

STABILITY = (
    Rule("log-softmax", ("log", ("softmax", X, {"axis": AXIS})), ("log_softmax", X, {"axis": AXIS})),
    # log softmax(x) = x - logsumexp(x): no log of an underflowed 0
    Rule("exp-log-softmax", ("exp", ("log_softmax", X, {"axis": AXIS})), ("softmax", X, {"axis": AXIS})),
    # e^(log softmax x) = softmax x
    Rule("cross-entropy-from-logits", ("neg", ("pick", ("log_softmax", X, {"axis": AXIS}), Y)),
         ("cross_entropy", X, Y), when=lambda b: b["axis"] == len(b["x"].shape) - 1),
    # -log softmax(x)_y = cross_entropy(x, y), one fused op from the logits
    Rule("log-exp", ("log", ("exp", X)), X),  # ln e^x = x (and no overflow at x > 88)
    Rule("softplus", ("log", ("add", 1, ("exp", X))), ("softplus", X)),  # ln(1 + e^x) = softplus(x)
    Rule("log-sigmoid", ("log", ("sigmoid", X)), ("neg", ("softplus", ("neg", X)))),  # ln s(x) = -softplus(-x)
    Rule("log-one-minus-sigmoid", ("log", ("sub", 1, ("sigmoid", X))), ("neg", ("softplus", X))),
    # ln(1 - s(x)) = -softplus(x)
    Rule("sigmoid", ("div", 1, ("add", 1, ("exp", ("neg", X)))), ("sigmoid", X)),  # 1/(1 + e^-x) = s(x)
    Rule("masked-gradient", ("mul", X, ("where", C, 1, 0)), ("where", C, X, 0)),
    # x * [c] = where(c, x, 0): where c fails the result is 0, even if x is NaN or Inf there
    Rule("where-then-mul", ("mul", ("where", C, X, 0), Y), ("where", C, ("mul", X, Y), 0)),
    # where(c, x, 0) * y = where(c, x*y, 0): NaN or Inf in y from the branch not taken cannot leak into gradients
    Rule("where-else-mul", ("mul", ("where", C, 0, X), Y), ("where", C, 0, ("mul", X, Y))),
    # likewise for the else branch
)

def _slice_inputs(bound, node):
    """Slice an element-wise op's inputs instead of its result; a broadcast axis of an input is not sliced."""
    inner, index = bound["z"].node, bound["index"]
    inputs = []
    for value in inner.inputs:
        offset = len(index) - len(value.type.shape)
        own = tuple((0, d, 1) if d == 1 and inner.type.shape[offset + a] != 1 else index[offset + a]
                    for a, d in enumerate(value.type.shape))
        whole = all(bounds == (0, d, 1) for bounds, d in zip(own, value.type.shape))
        inputs.append(value if whole else apply("slice", value, index=own))
    return apply(inner.op.name, *inputs, **inner.attributes)


def _pad_tree(node) -> bool:
    return isinstance(node.op, PadSlice) or isinstance(node.op, Add) and all(_pad_tree(i) for i in node.inputs)


def _pads(node) -> list:
    return [node] if isinstance(node.op, PadSlice) else [p for i in node.inputs for p in _pads(i)]


def _joined_pads(bound, node):
    """Zero-padded blocks that tile a range of one axis, summed, are that range zero-padded: their concatenation.
    (The blocks arrive in any order, since gradients accumulate in the order the sweep meets their uses.)"""
    pads = _pads(bound["x"].node) + _pads(bound["y"].node)
    like = pads[0].inputs[1]
    indices = [p.attr("index") for p in pads]
    axes = {a for index in indices for a, bounds in enumerate(index) if bounds != indices[0][a]}
    if len(axes) != 1 or any(p.inputs[1] is not like for p in pads):
        raise ValueError("not blocks of one axis of one shape")
    (axis,) = axes
    pads = sorted(pads, key=lambda p: p.attr("index")[axis][0])
    for before, after in zip(pads, pads[1:]):
        (_, stop, step), (start, _, other_step) = before.attr("index")[axis], after.attr("index")[axis]
        if not (step == other_step == 1 and stop == start):
            raise ValueError("the blocks do not tile a range")
    parts = [part for p in pads for part in (p.inputs[0].inputs if isinstance(p.inputs[0].op, Concat)
                                              and p.inputs[0].attr("axis") == axis else (p.inputs[0],))]
    first, last = pads[0].attr("index"), pads[-1].attr("index")
    index = first[:axis] + ((first[axis][0], last[axis][1], 1),) + first[axis + 1:]
    return apply("pad_slice", concat([Tensor(p) for p in parts], axis), like, index=index)


def _covers(bound) -> bool:
    return all(bounds == (0, d, 1) for bounds, d in zip(bound["index"], bound["like"].type.shape))


def _rows_times_matrix(bound, node):
    """A stack of row blocks times one matrix is one matrix product over all the rows (one GEMM, not many)."""
    a, b = bound["a"], bound["b"]
    rows = reshape(a, (-1, a.shape[-1]))
    return reshape(matmul(rows, b), tuple(a.shape[:-1]) + (b.shape[-1],))


def _summed_block_products(bound, node):
    """Σ_t a_tᵀ·g_t over a leading axis is (all rows of a)ᵀ·(all rows of g): one GEMM."""
    a, g = bound["a"], bound["g"]
    return matmul(transpose(reshape(a, (-1, a.shape[-1]))), reshape(g, (-1, g.shape[-1])))


STACKED = Var("a", lambda node: len(node.type.shape) >= 3)
MATRIX = Var("b", lambda node: len(node.type.shape) == 2)
BLOCKS = Var("g", lambda node: len(node.type.shape) == 3)

LINEAR_ALGEBRA = (
    Rule("matmul-rows", ("matmul", STACKED, MATRIX), _rows_times_matrix),
    # (A_1; ...; A_T)·B = reshape((rows of all A_t)·B): a batched product with a shared matrix is one product
    Rule("summed-block-products", ("sum", ("matmul", ("transpose", Var("a", lambda n: len(n.type.shape) == 3),
                                                      {"axes": (0, 2, 1)}), BLOCKS), {"axes": (0,), "keepdims": False}),
         _summed_block_products),  # Σ_t A_tᵀ·G_t = [A_1; ...; A_T]ᵀ·[G_1; ...; G_T]
)

ELEMENTWISE = Var("z", lambda node: node.op.elementwise and not node.op.random)
LIKE = Var("like")

# Slices move towards the inputs, so an LSTM's four gates computed from one (batch, 4·hidden) pre-activation become
# one kernel reading four blocks; in the gradient, the four zero-padded gate gradients become one concatenation.
SLICES = (
    Rule("slice-elementwise", ("slice", ELEMENTWISE, {"index": Var("index")}), _slice_inputs, exclusive="z"),
    # f(a, b)[s] = f(a[s], b[s]), when f(a, b) is only ever sliced (so nothing is computed twice)
    Rule("adjacent-pads", ("add", Var("x", _pad_tree), Var("y", _pad_tree)), _joined_pads),
    # pad(x at i) + pad(y at j) + ... = pad([x y ...] at i∪j∪...) for blocks that tile a range of one axis
    Rule("pad-everything", ("pad_slice", X, LIKE, {"index": Var("index")}), X, when=_covers),
    # x padded to fill exactly its own shape is x
)

UNSAFE = (
    Rule("mul-zero", ("mul", X, 0), _zeros_like, exact=False),  # x * 0 = 0 for finite x only
    Rule("sub-self", ("sub", X, X), _zeros_like, exact=False),  # x - x = 0 for finite x only
    Rule("div-self", ("div", X, X), _ones_like, exact=False),  # x / x = 1 for finite, non-zero x only
)

RULES = ALGEBRA + LINEAR_ALGEBRA + STABILITY + SLICES + UNSAFE
