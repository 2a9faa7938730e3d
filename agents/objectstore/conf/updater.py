"""[object_updater]: sends deferred container updates and container counts."""

from oslo_config import cfg

OPTS = [
    cfg.FloatOpt("interval", default=60.0, min=1.0, max=86400,
                 help="Seconds between passes (jittered by 10%)."),
    cfg.FloatOpt("node_timeout", default=10.0, min=0.1, max=600,
                 help="Seconds to wait for a container or account server."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="object_updater")


def list_opts():
    return [("object_updater", OPTS)]
