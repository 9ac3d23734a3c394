"""Data-parallel training on Ray: ``DataParallelStep`` (what ``Trainer(workers=N)`` trains with), its workers, and
joining or starting a cluster. Ray is optional (``graphc[distributed]``); it is imported only when used."""

from .cluster import ClusterError
from .step import DataParallelStep, ShardedState
