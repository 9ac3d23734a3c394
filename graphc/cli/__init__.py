"""The ``graphc`` command: ``render``, ``summary``, ``check``, ``bench``, ``ops`` (``inspection``); ``train``,
``generate``, ``demo`` (``training``); ``cache`` (``caches``). A user's mistake (a missing file, an unknown model, a
bad option, a corrupt checkpoint) is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import sys
import warnings

from ..errors import GraphcError
from ..version import __version__
from . import caches, inspection, training
from .options import apply_config_file, given_on_command_line


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def parser() -> Parser:
    root = Parser(prog="graphc", description="A symbolic computation-graph compiler for neural networks.")
    root.add_argument("--version", action="version", version=f"graphc {__version__}")
    commands = root.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    training.add_commands(commands)
    inspection.add_commands(commands)
    caches.add_commands(commands)
    return root


def main(argv=None) -> int:
    root = parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    arguments = root.parse_args(argv)
    if not getattr(arguments, "run", None):
        root.print_help()
        return 0
    command = root._subparsers._group_actions[0].choices[arguments.command]
    # A warning is one line for a user of the command (Python's own format adds the source line of the call).
    previous, warnings.formatwarning = warnings.formatwarning, (
        lambda message, category, *rest: f"graphc {arguments.command}: warning: {message}\n")
    try:
        apply_config_file(command, arguments, given_on_command_line(command, argv, arguments))
        return arguments.run(arguments)
    except GraphcError as error:  # a user's mistake or a missing tool: one line, no traceback
        where = f" (at {error.location})" if getattr(error, "location", None) else ""
        print(f"graphc {arguments.command}: {getattr(error, 'message', str(error))}{where}", file=sys.stderr)
        return 2
    except OSError as error:  # an unreadable or unwritable file
        print(f"graphc {arguments.command}: {error.strerror or error}: {error.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"graphc {arguments.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = previous


if __name__ == "__main__":
    sys.exit(main())
