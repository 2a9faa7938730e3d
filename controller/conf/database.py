"""[database]: the SQL database every controller daemon shares."""

from oslo_config import cfg

OPTS = [
    cfg.StrOpt("connection", default="sqlite:////var/lib/stratus/stratus.sqlite", secret=True,
               help="SQLAlchemy URL: sqlite:////path or postgresql+psycopg2://user:pw@host/db."),
    cfg.BoolOpt("connection_debug", default=False, help="Log every SQL statement."),
    cfg.IntOpt("pool_size", default=5, min=1, help="Connections kept open per process."),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group="database")


def list_opts():
    return [("database", OPTS)]
