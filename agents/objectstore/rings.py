"""The three rings as a node sees them, loaded on first use."""

from __future__ import annotations

import logging
import threading

from oslo_config import cfg

from common.ring import Ring
from common.ring import conf as ring_conf
from common.ring.hashing import hash_path

LOG = logging.getLogger(__name__)


class NodeRings:
    """Lazy account/container/object rings plus the salted name hash."""

    def __init__(self, conf: cfg.ConfigOpts):
        self.conf = conf
        self.prefix = conf.ring.hash_path_prefix
        self.suffix = conf.ring.hash_path_suffix
        self._rings: dict[str, Ring] = {}
        self._lock = threading.Lock()

    def hash_of(self, account: str, container: str | None = None,
                obj: str | None = None) -> str:
        return hash_path(account, container, obj, prefix=self.prefix, suffix=self.suffix)

    def get(self, kind: str) -> Ring:
        """The ring of kind ('account', 'container' or 'object').

        :raises OSError: the ring file is missing (the node still serves requests
            that do not need it).
        """
        ring = self._rings.get(kind)
        if ring is None:
            with self._lock:
                ring = self._rings.get(kind)
                if ring is None:
                    ring = ring_conf.load_ring(self.conf, kind)
                    self._rings[kind] = ring
        return ring
