"""[scheduler] and [conductor]: RPC topics of the controller's back-end daemons."""

from oslo_config import cfg

SCHEDULER_OPTS = [
    cfg.StrOpt("topic", default="stratus-scheduler", help="RPC topic the scheduler listens on."),
]

CONDUCTOR_OPTS = [
    cfg.StrOpt("topic", default="stratus-conductor", help="RPC topic the conductor listens on."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(SCHEDULER_OPTS, group="scheduler")
    conf.register_opts(CONDUCTOR_OPTS, group="conductor")


def list_opts():
    return [("scheduler", SCHEDULER_OPTS), ("conductor", CONDUCTOR_OPTS)]
