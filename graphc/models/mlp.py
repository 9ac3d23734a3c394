"""A multilayer perceptron classifier: ``a_i = g(a_{i-1} W_i + b_i)``, softmax cross-entropy on the last layer."""

import graphc
import graphc.data
import graphc.nn


def build(sizes=(64, 128, 10), activation="tanh", dtype="float32") -> graphc.Model:
    """Layer sizes from input to classes (W1 of the benchmarks: 64 -> 128 -> 10, tanh)."""
    function = graphc.nn.activation(activation)  # an unknown name is an error here, naming the known ones
    x = graphc.input("x", ("batch", sizes[0]), dtype)
    labels = graphc.input("labels", ("batch",), "int64")
    h = x
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        with graphc.scope(f"layer{i}"):
            W = graphc.param(f"W{i}", (n_in, n_out), init="glorot_uniform", dtype=dtype)
            b = graphc.param(f"b{i}", (n_out,), init="zeros", dtype=dtype)
            h = h @ W + b
            if i < len(sizes) - 1 and function:
                h = function(h)
    loss = graphc.cross_entropy(h, labels)
    return graphc.Model("mlp", {"x": x, "labels": labels}, {"logits": h}, loss,
                        config={"sizes": sizes, "activation": activation})


def dataset(sizes=(64, 128, 10), count=2000, batch=64, dtype="float32"):
    """Points around one random centre per class (``graphc.data.cluster_dataset``), shaped for ``sizes``."""
    return graphc.data.cluster_dataset(sizes[0], sizes[-1], count, batch, dtype=dtype)
