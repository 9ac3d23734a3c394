"""graphc's version: in compiled code's cache keys and checkpoints, so it sits below everything that writes them."""

__version__ = "0.1.0"
