"""[scheduler]: the scheduler's RPC topic (the shared topics live in common.conf)."""

from oslo_config import cfg

SCHEDULER_OPTS = [
    cfg.StrOpt("topic", default="stratus-scheduler", help="RPC topic the scheduler listens on."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(SCHEDULER_OPTS, group="scheduler")


def list_opts():
    return [("scheduler", SCHEDULER_OPTS)]
