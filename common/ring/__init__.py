"""The object-storage ring: partitions placed on devices across regions and zones.

Split the way Swift's best modules are: ``hashing`` (names to partitions),
``ring`` (read-only lookup used by the proxy and the storage nodes, reloaded when
its file changes), ``builder`` and ``placement`` (the operator-side model and the
rebalance algorithm), ``serialization`` (JSON builder files and the compact ring
file) and ``cli`` (``stratus-manage ring ...``).
"""

from common.ring.hashing import hash_path
from common.ring.ring import Ring

__all__ = ["Ring", "hash_path"]
