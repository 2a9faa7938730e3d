"""[object_auditor]: verifies every stored object and quarantines corrupt copies."""

from oslo_config import cfg

OPTS = [
    cfg.FloatOpt("interval", default=300.0, min=1.0, max=86400,
                 help="Seconds between audit passes (jittered by 10%)."),
    cfg.IntOpt("bytes_per_second", default=20 * 1048576, min=0,
               help="Read rate limit, so audits do not starve clients (0: unlimited)."),
    cfg.IntOpt("files_per_second", default=50, min=0,
               help="Objects checked per second at most (0: unlimited)."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="object_auditor")


def list_opts():
    return [("object_auditor", OPTS)]
