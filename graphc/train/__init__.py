"""Training: language modelling (``language``)."""

from . import language
