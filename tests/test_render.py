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
    found = dict(re.findall(r"^\s*(\w+) \[(.*?)\]$", dot.source, re.M | re.S))
    return {k: v for k, v in found.items() if k not in ("graph", "node", "edge")}  # DOT's default statements


def edges(dot: graphviz.Digraph) -> list[tuple[str, str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)(?: \[(.*?)\])?$", dot.source, re.M | re.S)


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
