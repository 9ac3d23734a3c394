"""Loops: ``scan`` (the op, its tracing, and its derivative, backpropagation through time) and the loop ``Body``
over ``slot`` placeholders. Passes that reshape loops (hoisting, merging, pruning) and their lowering stay with the
other passes and backends."""

from .body import Body, close_body, loop_like, new_tag, slot
from .scan import scan
