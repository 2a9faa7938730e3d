"""[object_expirer]: deletes objects whose X-Delete-At has passed."""

from oslo_config import cfg

OPTS = [
    cfg.FloatOpt("interval", default=60.0, min=1.0, max=86400,
                 help="Seconds between passes (jittered by 10%)."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="object_expirer")


def list_opts():
    return [("object_expirer", OPTS)]
