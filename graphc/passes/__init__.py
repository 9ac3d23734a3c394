"""Graph -> Graph passes of the optimizer; ``pipeline.py`` holds their order."""

from .pipeline import Report, optimize, optimize_graph
