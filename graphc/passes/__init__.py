"""Graph -> Graph passes of the optimizer (``pipeline.py`` holds their order), and ``for_evaluation`` (a model's
graph as evaluation runs it: no dropout)."""

from .evaluation import for_evaluation
from .pipeline import Report, optimize, optimize_graph
