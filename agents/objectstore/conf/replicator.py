"""[object_replicator]: restores missing or stale copies on the primary nodes."""

from oslo_config import cfg

OPTS = [
    cfg.FloatOpt("interval", default=30.0, min=1.0, max=86400,
                 help="Seconds between replication passes (jittered by 10%)."),
    cfg.IntOpt("concurrency", default=4, min=1, max=64,
               help="Partitions replicated in parallel."),
    cfg.FloatOpt("node_timeout", default=30.0, min=0.5, max=600,
                 help="Seconds to wait for a peer while pushing data."),
    cfg.BoolOpt("handoff_delete", default=True,
                help="Delete a handoff partition once every primary has it."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="object_replicator")


def list_opts():
    return [("object_replicator", OPTS)]
