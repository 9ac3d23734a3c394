"""The ``graphc`` command. Subcommands are added as the features behind them land."""

from __future__ import annotations

import argparse
import sys

from . import __version__


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="graphc", description="A symbolic computation-graph compiler for "
                                     "neural networks.")
    parser.add_argument("--version", action="version", version=f"graphc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    ops = commands.add_parser("ops", help="list the op table")
    ops.set_defaults(run=list_ops)
    arguments = parser.parse_args(argv)
    if not getattr(arguments, "run", None):
        parser.print_help()
        return 0
    return arguments.run(arguments)


if __name__ == "__main__":
    sys.exit(main())
