"""The ``graphc`` command. Subcommands are added as the features behind them land."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import GraphcError


def list_ops(arguments) -> int:
    """Print the op table: name, kind and flags."""
    from .ops import OPS

    for name, op in OPS.items():
        kind = "leaf" if op.leaf else "element-wise" if op.elementwise else "structured"
        flags = [flag for flag in ("commutative", "random", "stable_at_extremes") if getattr(op, flag)]
        if not op.differentiable:
            flags.append("no gradient")
        print(f"{name:22} {kind:13} {', '.join(flags)}")
    return 0


def render_model(arguments) -> int:
    """Draw a model file's graph to an image (or DOT source with -o FILE.gv)."""
    from . import modelfile
    from .render import render

    model = modelfile.load(arguments.model, modelfile.parse_config(arguments.set))
    render(model, backward=arguments.backward, stage=arguments.stage, path=arguments.output,
           collapse=arguments.collapse or (), max_nodes=arguments.max_nodes, unroll=arguments.unroll)
    print(f"wrote {arguments.output}")
    return 0


def manage_cache(arguments) -> int:
    """Show where compiled kernels are cached, or clear them."""
    from .backends import cache

    if arguments.clear:
        print(f"removed {cache.clear()} cached modules from {cache.directory()}")
    else:
        print(cache.directory())
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="graphc", description="A symbolic computation-graph compiler for "
                                     "neural networks.")
    parser.add_argument("--version", action="version", version=f"graphc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    ops = commands.add_parser("ops", help="list the op table")
    ops.set_defaults(run=list_ops)
    draw = commands.add_parser("render", help="draw a model's graph with Graphviz",
                               description="Draw the graph of MODEL (a model file, or the name of one in ./models) "
                                           "to FILE (.svg, .png, .pdf, or .gv for DOT source).")
    draw.add_argument("model", metavar="MODEL")
    draw.add_argument("-o", "--output", metavar="FILE", default="graph.svg", help="where to write (default graph.svg)")
    draw.add_argument("--backward", action="store_true", help="also draw the gradients (the chain rule)")
    draw.add_argument("--stage", choices=("raw", "optimized"), default="raw", help="the graph as built or optimized")
    draw.add_argument("--collapse", action="append", metavar="SCOPE", help="draw this name scope as one box")
    draw.add_argument("--max-nodes", type=int, default=150, help="collapse scopes beyond this many nodes")
    draw.add_argument("--unroll", type=int, default=0, metavar="K",
                      help="draw each loop's first K steps instead of its body once")
    draw.add_argument("--set", action="append", metavar="NAME=VALUE", help="configuration passed to build()")
    draw.set_defaults(run=render_model)
    kernels = commands.add_parser("cache", help="where compiled kernels are cached (GRAPHC_CACHE_DIR); --clear")
    kernels.add_argument("--clear", action="store_true", help="delete every cached module")
    kernels.set_defaults(run=manage_cache)
    arguments = parser.parse_args(argv)
    if not getattr(arguments, "run", None):
        parser.print_help()
        return 0
    try:
        return arguments.run(arguments)
    except GraphcError as error:  # a user's mistake or a missing tool: one line, no traceback
        print(f"graphc {arguments.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
