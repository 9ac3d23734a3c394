"""``from_torch``: parameter values for a graphc layer from the equivalent PyTorch module.

The mapping, layer l and direction d (``_reverse`` in PyTorch's names, ``.reverse`` in graphc's):

- ``nn.Linear``: ``W = weight.T``, ``b = bias``.
- ``nn.Embedding``: ``table = weight``.
- ``nn.Conv1d``: ``W = weight`` with its axes reversed (width, inputs, outputs), ``b = bias``.
- ``nn.RNN`` and ``nn.LSTM``: ``W = weight_ih_l<l>.T``, ``U = weight_hh_l<l>.T``, ``b = bias_ih_l<l> +
  bias_hh_l<l>`` (graphc has one bias per block; the gate order i, f, g, o is PyTorch's).
- ``nn.GRU``: ``W``, ``U`` as above (blocks r, z, n), ``b = bias_ih_l<l>``, ``b_hidden = bias_hh_l<l>``.

torch is imported only by the caller: this module reads the module's ``named_parameters``.
"""

from __future__ import annotations

import numpy as np

from .errors import GraphcError


def from_torch(module, layer, dtype=None) -> dict[str, np.ndarray]:
    """{graphc parameter name: array} for ``layer`` (a graphc.nn layer) from the torch ``module``."""
    torch_params = {name: p.detach().cpu().numpy() for name, p in module.named_parameters()}
    kind = type(module).__name__
    values: dict[str, np.ndarray] = {}
    if kind == "Linear":
        values = {"W": torch_params["weight"].T, "b": torch_params.get("bias")}
    elif kind == "Embedding":
        values = {"table": torch_params["weight"]}
    elif kind == "Conv1d":  # torch (outputs, inputs, width) -> graphc (width, inputs, outputs)
        values = {"W": torch_params["weight"].transpose(2, 1, 0), "b": torch_params.get("bias")}
    elif kind in ("RNN", "LSTM", "GRU"):
        directions = ("", "_reverse") if module.bidirectional else ("",)
        for l in range(module.num_layers):  # noqa: E741 - PyTorch's own name
            for suffix, ours in zip(directions, (".", ".reverse.")):
                key = f"l{l}{suffix}"
                values[f"l{l}{ours}W"] = torch_params[f"weight_ih_{key}"].T
                values[f"l{l}{ours}U"] = torch_params[f"weight_hh_{key}"].T
                if kind == "GRU":
                    values[f"l{l}{ours}b"] = torch_params[f"bias_ih_{key}"]
                    values[f"l{l}{ours}b_hidden"] = torch_params[f"bias_hh_{key}"]
                else:
                    values[f"l{l}{ours}b"] = torch_params[f"bias_ih_{key}"] + torch_params[f"bias_hh_{key}"]
    else:
        raise GraphcError(f"from_torch: no mapping for torch.nn.{kind}")
    result = {}
    for short, param in layer.params.items():
        if short not in values or values[short] is None:
            raise GraphcError(f"from_torch: {kind} has no weights for {layer.name}'s parameter {short!r}")
        value = np.ascontiguousarray(values[short], dtype=dtype or param.dtype)
        if value.shape != tuple(param.shape):
            raise GraphcError(f"from_torch: {kind}'s weights for {short!r} have shape {value.shape}, but "
                              f"{param.name} is {tuple(param.shape)}")
        result[param.name] = value
    return result
