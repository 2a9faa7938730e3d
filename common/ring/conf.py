"""[ring]: where the rings are and the hash salt every proxy and node must share."""

from __future__ import annotations

import os

from oslo_config import cfg

OPTS = [
    cfg.StrOpt("ring_dir", default="/etc/stratus/rings",
               help="Directory holding account.ring.gz, container.ring.gz and "
                    "object.ring.gz (written by `stratus-manage ring rebalance`)."),
    cfg.StrOpt("hash_path_prefix", default="", secret=True,
               help="Secret salt prepended to every name before hashing. Must be the "
                    "same on every proxy and node and never change once data exists."),
    cfg.StrOpt("hash_path_suffix", default="", secret=True,
               help="Secret salt appended to every name before hashing (as prefix)."),
    cfg.FloatOpt("reload_interval", default=15.0, min=0.0, max=3600.0,
                 help="Seconds between checks whether a ring file changed on disk."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="ring")


def list_opts():
    return [("ring", OPTS)]


def load_ring(conf: cfg.ConfigOpts, kind: str):
    """The account, container or object Ring described by conf's [ring] group."""
    from common.ring.ring import Ring

    return Ring(os.path.join(conf.ring.ring_dir, f"{kind}.ring.gz"),
                hash_prefix=conf.ring.hash_path_prefix,
                hash_suffix=conf.ring.hash_path_suffix,
                reload_interval=conf.ring.reload_interval)
