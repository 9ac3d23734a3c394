"""The op table (``OPS``) and the public function of every op (``PUBLIC``, exported here and by ``graphc``).

Importing this package registers every op; each op is defined once, in the module of its family, and its public
function is defined (or, for an element-wise op, made) in the same block.
"""

from . import (  # the families: importing them registers their ops
    activations,
    arithmetic,
    comparison,
    elementwise,
    fused,
    indexing,
    item,
    leaf,
    linalg,
    loss,
    operators,
    random,
    reduce,
    shape,
    slicing,
    softmax,
)
from .elementwise import Elementwise
from .registry import OPS, OUT, PUBLIC, Case, Op, apply, public, register

globals().update(PUBLIC)
__all__ = ["OPS", "PUBLIC", "OUT", "Case", "Op", "Elementwise", "apply", "public", "register", *PUBLIC]
