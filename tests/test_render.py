"""Rendering: the DOT structure (nodes, edges, clusters, labels, colours), real images when Graphviz is installed,
and clear behaviour when it is not."""

import pathlib
import re
import shutil
import subprocess
import sys

import graphviz
import numpy as np
import pytest

import graphc
from graphc.models import lstm_step, mlp, xor
from graphc.render.draw import STYLES

ROOT = pathlib.Path(__file__).resolve().parent.parent
HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's dot program is not installed")


def textbook():
    a, b, c = (graphc.input(n, (), "float64") for n in "abc")
    e = graphc.name(a + 2.0 * b, "e")
    return graphc.name(c * e, "L"), {"a": 3.0, "b": 1.0, "c": -2.0}


def nodes(dot: graphviz.Digraph) -> dict[str, str]:
    """node id -> its attribute text, from the DOT source."""
    found = dict(re.findall(r'^\s*"?([\w.]+)"? \[(.*?)\]$', dot.source, re.M | re.S))
    return {k: v for k, v in found.items() if k not in ("graph", "node", "edge")}  # DOT's default statements


def edges(dot: graphviz.Digraph) -> list[tuple[str, str, str]]:
    return re.findall(r'^\s*"?([\w.]+)"? -> "?([\w.]+)"?(?: \[(.*?)\])?$', dot.source, re.M | re.S)


def label(attributes: str) -> str:
    """The label of a DOT attribute list ("" if it has none)."""
    match = re.search(r'label="(.*?)"(?= \w+=|$)', attributes, re.S) or re.search(r"label=(\S+)", attributes)
    return match.group(1) if match else ""


def test_forward_graph_distinguishes_inputs_parameters_constants_ops_and_outputs():
    dot = graphc.render(xor.build())
    found = nodes(dot)
    by_label = {label(a).split("\n")[0]: a for a in found.values()}
    assert STYLES["input"]["fillcolor"] in by_label["x"]
    assert STYLES["param"]["fillcolor"] in by_label["W"] and "bold" in by_label["W"]
    assert STYLES["op"]["fillcolor"] in by_label["h = relu"]
    assert "peripheries=2" in by_label["div"]  # the loss is an output
    shapes = [label(attrs) for _, _, attrs in edges(dot) if attrs]
    assert "(batch, 2)" in shapes and "(2, 2)" in shapes  # shapes, with named dimensions, on edges
    assert "subgraph cluster_" in dot.source and 'label=hidden' in dot.source  # scopes are clusters


def test_the_textbook_example_annotated():
    L, feeds = textbook()
    dot = graphc.render(L, backward=True, feeds=feeds)
    labels = {label(a) for a in nodes(dot).values()}
    for expected in ("a\n3", "b\n1", "c\n-2", "e = add\n5", "L = mul\n-10",
                     "∂L/∂L\n1", "∂L/∂e\n-2", "∂L/∂a\n-2", "∂L/∂b\n-4", "∂L/∂c\n5"):
        assert expected in labels, expected
    backward = [label(attrs) for _, _, attrs in edges(dot) if attrs and "dir=back" in attrs]
    assert "× e\n= 5" in backward and "× c\n= -2" in backward and "× 2\n= -4" in backward
    links = [(tail, head) for tail, head, attrs in edges(dot) if attrs and "style=dashed" in attrs]
    assert len(links) == 6  # a, b, c, 2b, e and L, each linked to its gradient (the constant 2 has none)
    assert len(nodes(dot)) == 13  # 7 forward nodes and 6 gradients: a small, clean picture


def test_backward_nodes_have_their_own_colour_and_local_derivative_formulas():
    dot = graphc.render(mlp.build(sizes=(4, 8, 3)), backward=True)
    gradients = [a for a in nodes(dot).values() if label(a).startswith("∂L/∂")]
    assert gradients and all(STYLES["gradient"]["fillcolor"] in a for a in gradients)
    formulas = [label(attrs) for _, _, attrs in edges(dot) if attrs and "dir=back" in attrs]
    assert "× 1 - tanh(add)²" in formulas and "aᵀ @ g" in formulas and "g @ bᵀ" in formulas


def test_optimized_stage_draws_fused_kernels_as_clusters():
    model = lstm_step.build()
    raw, optimized = graphc.render(model), graphc.render(model, stage="optimized")
    assert "fused kernel" not in raw.source
    kernels = re.findall(r'label="fused kernel (\d+): (\d+) ops"', optimized.source)
    assert kernels and max(int(count) for _, count in kernels) >= 10
    joint = graphc.render(model, stage="optimized", backward=True)
    assert STYLES["backward-op"]["fillcolor"] in joint.source


def test_scopes_collapse_on_request_and_to_fit_a_budget():
    model = mlp.build(sizes=(4, 8, 8, 3))
    full = graphc.render(model)
    collapsed = graphc.render(model, collapse=["layer1"])
    assert "layer1\n(collapsed)" in collapsed.source and len(nodes(collapsed)) < len(nodes(full))
    budget = graphc.render(model, max_nodes=12)
    assert "(collapsed)" in budget.source and len(nodes(budget)) <= len(nodes(full))


def test_long_labels_are_shortened():
    x = graphc.input("a_really_long_input_name_that_goes_on_and_on", (2,))
    dot = graphc.render(graphc.exp(x), max_label=12)
    assert "a_really_lo…" in dot.source


def test_annotated_values_summarise_tensors():
    model = mlp.build(sizes=(4, 8, 3), dtype="float64")
    feeds = {**graphc.init_params(model.params, 0), "x": np.ones((5, 4)), "labels": np.zeros(5, np.int64)}
    dot = graphc.render(model, backward=True, feeds=feeds)
    assert "μ=" in dot.source and "(5, 8)" in dot.source


@needs_dot
@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_real_rendering_writes_images(tmp_path, suffix):
    L, feeds = textbook()
    path = graphc.render(L, backward=True, feeds=feeds, path=tmp_path / f"textbook.{suffix}") and \
        tmp_path / f"textbook.{suffix}"
    data = path.read_bytes()
    magic = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF"}[suffix]
    assert magic in data[:400]


def test_without_graphviz_the_dot_source_is_still_returned_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on the PATH
    L, _ = textbook()
    dot = graphc.render(L)
    assert dot.source.startswith("digraph")
    with pytest.raises(graphc.GraphvizMissing, match="apt-get install graphviz"):
        graphc.render(L, path=tmp_path / "picture.png")
    assert (tmp_path / "picture.gv").read_text() == dot.source
    assert "image/svg+xml" not in L._repr_mimebundle_()


@needs_dot
def test_jupyter_displays_tensors_models_and_graphs():
    L, _ = textbook()
    model = xor.build()
    for value in (L, model, graphc.Graph([L.node])):
        bundle = value._repr_mimebundle_()
        assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg")) and bundle["text/plain"]


@needs_dot
def test_the_gallery_script_draws_every_picture_of_the_gallery(tmp_path):
    result = subprocess.run([sys.executable, "scripts/gallery.py", str(tmp_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    referenced = re.findall(r"\(gallery/([\w.]+)\)", (ROOT / "docs" / "gallery.md").read_text())
    graphs = [name for name in referenced if name.endswith(".svg")]
    assert graphs
    for name in graphs:
        assert (tmp_path / name).read_text().count("<g id=\"node") >= 5
    # The gallery's plots (PNG) come from the examples that measure them, not from the graph-drawing script.
    for name in referenced:
        assert (ROOT / "docs" / "gallery" / name).exists()


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "graphc", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=env)


@needs_dot
def test_cli_renders_a_model_file(tmp_path):
    result = cli("render", "mlp", "-o", str(tmp_path / "mlp.svg"), "--backward", "--set", "sizes=(4, 5, 2)")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mlp.svg").read_text().count("∂L/∂") >= 5


def test_cli_errors_are_one_line(tmp_path):
    result = cli("render", "no_such_model", "-o", str(tmp_path / "x.svg"))
    assert result.returncode == 2 and "no built-in model 'no_such_model'" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    bad = tmp_path / "bad.py"
    bad.write_text("def build():\n    return 42\n")
    result = cli("render", str(bad), "-o", str(tmp_path / "x.svg"))
    assert result.returncode == 2 and "not a graphc.Model" in result.stderr


def test_cli_says_how_to_install_graphviz(tmp_path):
    environment = {"PATH": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = cli("render", "xor", "-o", str(tmp_path / "x.png"), env=environment)
    assert result.returncode == 2 and "apt-get install graphviz" in result.stderr
    assert (tmp_path / "x.gv").exists()


def test_a_loop_is_a_cluster_with_a_recurrent_edge_or_unrolled():
    from graphc import nn

    model = nn.language_model("lstm", 12, 4, 6)
    once = graphc.render(model).source
    assert "loop 1: scan over time steps" in once and "next step" in once
    assert "h (carry)" in once and "c (carry)" in once and "x[t]" in once and "lstm.l0.U (captured)" in once
    unrolled = graphc.render(model, unroll=3).source
    assert "next step" not in unrolled and "x[t=2]" in unrolled and "x[t=3]" not in unrolled
    assert unrolled.count("label=carry") >= 4  # h and c into steps 1 and 2
    assert unrolled.count("lstm.l0.U (captured)") == 1  # a weight is the same at every step: drawn once
    assert unrolled.count("label=\"(6, 24)\"") >= 3  # and its edges go from it into each step drawn
    optimized = graphc.render(model, backward=True, stage="optimized").source
    assert optimized.count("scan over time steps") == 1 and "scan backwards over time steps" in optimized


def test_names_given_inside_a_loop_step_are_drawn_inside_the_loop():
    x, h0 = graphc.input("x", ("time", "batch", 3)), graphc.input("h0", ("batch", 4))
    W = graphc.param("W", (3, 4))

    def step(h, xt):  # xt @ W reads a captured weight: closing the body rebuilt these values, unnamed
        forget = graphc.name(graphc.sigmoid(xt @ W), "forget")
        return graphc.name(forget * h, "kept"), None

    final, _ = graphc.scan(step, h0, x)
    for picture in (graphc.render(final.sum()), graphc.render(final.sum(), unroll=2)):
        clusters = picture.source.split("subgraph")
        inside = [part for part in clusters if "scan over time steps" in part]
        assert inside and "forget = sigmoid" in inside[0] and "kept = mul" in inside[0], picture.source


def test_cli_render_unrolls(tmp_path):
    from graphc import cli

    target = tmp_path / "lm.gv"
    assert cli.main(["render", "graphc/models/rnn_lm.py", "-o", str(target), "--unroll", "2",
                     "--set", "vocabulary=10", "--set", "hidden=4", "--set", "embed=3"]) == 0
    assert "x[t=1]" in target.read_text()


def test_the_lstm_cell_picture_names_its_gates_and_states():
    """A teacher's picture says i, f, g, o, c and h, not slice and sigmoid."""
    source = graphc.render(lstm_step.build(), backward=True).source
    for label in ("i = sigmoid", "f = sigmoid", "g = tanh", "o = sigmoid", "c = add", "h = mul"):
        assert f'label="{label}"' in source, label


def clusters_holding(source: str, text: str) -> list[str]:
    return [part for part in source.split("subgraph") if text in part]


def label_of(dot: graphviz.Digraph) -> dict[str, str]:
    """node id -> its label."""
    return {node: label(attributes) for node, attributes in nodes(dot).items()}


def test_an_unrolled_backward_loop_shows_backpropagation_through_time():
    """Each step drawn holds its own gradients: dL/dh at step t reaches dL/dh at step t-1 through the carry and
    the step's local derivatives; a weight's gradient is one node summed over the steps."""
    from graphc import nn

    dot = graphc.render(nn.language_model("rnn", 12, 4, 6), backward=True, unroll=3)
    labels = label_of(dot)
    by_label = {text: node for node, text in labels.items()}
    assert "∂L/∂scan" not in labels.values()
    loop = clusters_holding(dot.source, "scan over time steps")[0]
    for step in range(3):
        assert f'label="∂L/∂h [t={step}]"' in loop and f'label="∂L/∂h (carry) [t={step}]"' in loop
    flows = {(tail, head): label(attributes) for tail, head, attributes in edges(dot) if "dir=back" in attributes}
    for step in (1, 2):  # dL/d(carry into step t) is passed on to what step t-1 computed: dL/dh [t-1]
        assert flows[(by_label[f"∂L/∂h [t={step - 1}]"], by_label[f"∂L/∂h (carry) [t={step}]"])] == "carry"
    # inside a step: h = tanh(...), so the gradient into tanh's input is upstream x (1 - tanh²)
    local = [text for (tail, head), text in flows.items() if head == by_label["∂L/∂h [t=1]"]]
    assert any("tanh" in text and text.startswith("×") for text in local), local
    shared = [text for text in labels.values() if text == "∂L/∂rnn.l0.U (all steps)"]
    assert len(shared) == 1
    assert flows[(by_label["∂L/∂rnn.l0.U"], by_label["∂L/∂rnn.l0.U (all steps)"])] == "Σ over steps"
    from_steps = [head for tail, head in flows if tail == by_label["∂L/∂rnn.l0.U (all steps)"]]
    assert len(from_steps) == 3  # one contribution from each step drawn


def test_a_loop_drawn_once_passes_its_carry_gradient_to_the_step_before():
    from graphc import nn

    dot = graphc.render(nn.language_model("lstm", 12, 4, 6), backward=True)
    by_label = {text: node for node, text in label_of(dot).items()}
    recurrent = [(tail, head) for tail, head, attributes in edges(dot) if "to step t−1" in attributes]
    assert (by_label["∂L/∂h"], by_label["∂L/∂h (carry)"]) in recurrent
    assert (by_label["∂L/∂c"], by_label["∂L/∂c (carry)"]) in recurrent
    assert "∂L/∂f" in by_label and "∂L/∂x[t]" in by_label


def test_stacked_unrolled_loops_feed_each_step_to_the_same_step_above():
    from graphc import nn

    dot = graphc.render(nn.language_model("rnn", 12, 4, 6, layers=2), backward=True, unroll=2)
    upper = {text: node for node, text in label_of(dot).items() if node.removeprefix("grad_").startswith("loop2_")}
    tails = {head: tail for tail, head, _ in edges(dot) if not tail.startswith("grad_")}
    for step in (0, 1):  # step t of the upper layer reads step t of the lower one
        assert tails[upper[f"x[t={step}]"]].startswith(f"loop1_{step}_")
    gradient_tails = {head: tail for tail, head, attributes in edges(dot) if "[t=1]" in label(attributes)
                      and "dir=back" in attributes}
    assert gradient_tails[upper["∂L/∂x[t=1]"]].startswith("grad_loop1_1_")


def every_endpoint_is_drawn(dot: graphviz.Digraph) -> bool:
    drawn = set(nodes(dot))
    return all(tail in drawn and head in drawn for tail, head, _ in edges(dot))


def test_collapsing_a_scope_that_holds_a_loop_draws_one_box_with_its_edges():
    from graphc import nn

    model = nn.language_model("lstm", 12, 4, 6)
    for backward in (False, True):
        dot = graphc.render(model, collapse=["lstm.l0"], backward=backward)
        assert every_endpoint_is_drawn(dot) and not any(n.startswith("loop") for n in nodes(dot))
        box = next(node for node, text in label_of(dot).items() if text.startswith("lstm.l0\n"))
        assert sum(head == box for _, head, _ in edges(dot)) >= 4  # states, sequence and weights go in
        assert any(tail == box for tail, _, _ in edges(dot))
    with pytest.raises(graphc.GraphcError, match="no scope 'lstm.l9'"):
        graphc.render(model, collapse=["lstm.l9"])


def test_pictures_fit_a_slide_unless_told_otherwise(tmp_path):
    L, _ = textbook()
    assert graphc.render(L).graph_attr["size"] == "13.33,7.5"
    assert "size" not in graphc.render(L, size=None).graph_attr
    assert graphc.render(L, direction="TB").graph_attr["rankdir"] == "TB"
    for wrong in (dict(direction="up"), dict(size=(0, 3)), dict(size="big")):
        with pytest.raises(graphc.GraphcError):
            graphc.render(L, **wrong)


@needs_dot
def test_an_unrolled_lstm_picture_fits_a_slide_at_the_default_size(tmp_path):
    from graphc import nn

    path = tmp_path / "lstm.png"
    graphc.render(nn.language_model("lstm", 12, 4, 6), backward=True, unroll=3, path=path)
    width, height = (int.from_bytes(path.read_bytes()[offset:offset + 4], "big") for offset in (16, 20))
    assert width <= 1920 and height <= 1080 and max(width / 1920, height / 1080) > 0.99  # 13.33 x 7.5 in at 144 dpi
    natural = tmp_path / "natural.png"
    graphc.render(nn.language_model("lstm", 12, 4, 6), backward=True, unroll=3, path=natural, size=None)
    assert int.from_bytes(natural.read_bytes()[16:20], "big") != width


def test_cli_render_values_draws_values_and_parameter_gradients(tmp_path):
    from graphc import cli as command_line

    target = tmp_path / "xor.gv"
    assert command_line.main(["render", "xor", "--values", "--backward", "-o", str(target)]) == 0
    text = target.read_text()
    assert re.search(r'label="∂L/∂W\n\[-?\d', text) and re.search(r'label="W\n\[-?\d', text)
    assert "∂L/∂x" not in text and "∂L/∂target" not in text  # data inputs and targets: only when asked for
    assert command_line.main(["render", "xor", "--values", "--backward", "--input-gradients", "-o",
                              str(target)]) == 0
    assert "∂L/∂x\n" in target.read_text()
    recurrent = tmp_path / "rnn.gv"  # a loop's gradients are drawn inside it, its values outside
    assert command_line.main(["render", "rnn_lm", "--values", "--backward", "--unroll", "2", "-o", str(recurrent),
                              "--set", "hidden=4", "--set", "embed=3"]) == 0
    text = recurrent.read_text()
    assert "∂L/∂h [t=1]" in text and re.search(r'label="∂L/∂rnn.l0.U\n\(4, 4\) μ=', text)
